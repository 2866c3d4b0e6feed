using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace TwaBot.Api.Data.Migrations
{
    /// <inheritdoc />
    public partial class ProtectedIdempotency : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.RenameColumn(
                name: "idempotency_request_sha256",
                table: "messages",
                newName: "protected_idempotency_request_sha256");

            migrationBuilder.RenameColumn(
                name: "request_sha256",
                table: "idempotent_answers",
                newName: "protected_request_sha256");

            migrationBuilder.RenameColumn(
                name: "body",
                table: "idempotent_answers",
                newName: "protected_body");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.RenameColumn(
                name: "protected_idempotency_request_sha256",
                table: "messages",
                newName: "idempotency_request_sha256");

            migrationBuilder.RenameColumn(
                name: "protected_request_sha256",
                table: "idempotent_answers",
                newName: "request_sha256");

            migrationBuilder.RenameColumn(
                name: "protected_body",
                table: "idempotent_answers",
                newName: "body");
        }
    }
}
