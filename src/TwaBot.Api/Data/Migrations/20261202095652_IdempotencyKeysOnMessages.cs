using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace TwaBot.Api.Data.Migrations
{
    /// <inheritdoc />
    public partial class IdempotencyKeysOnMessages : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "idempotency_key",
                table: "messages",
                type: "TEXT",
                maxLength: 255,
                nullable: true);

            migrationBuilder.AddColumn<byte[]>(
                name: "idempotency_request_sha256",
                table: "messages",
                type: "BLOB",
                nullable: true);

            migrationBuilder.CreateIndex(
                name: "ix_messages_api_key_id_idempotency_key",
                table: "messages",
                columns: new[] { "api_key_id", "idempotency_key" },
                filter: "idempotency_key IS NOT NULL");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "ix_messages_api_key_id_idempotency_key",
                table: "messages");

            migrationBuilder.DropColumn(
                name: "idempotency_key",
                table: "messages");

            migrationBuilder.DropColumn(
                name: "idempotency_request_sha256",
                table: "messages");
        }
    }
}
