using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace TwaBot.Api.Data.Migrations
{
    /// <inheritdoc />
    public partial class MessageReference : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "reference",
                table: "messages",
                type: "TEXT",
                nullable: false,
                defaultValue: "");

            // Rows written before keep the id they were sent with (and which callers and Meta's reports still hold).
            migrationBuilder.Sql("UPDATE messages SET reference = 'twb:' || id;");

            migrationBuilder.CreateIndex(
                name: "ix_messages_reference",
                table: "messages",
                column: "reference",
                unique: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "ix_messages_reference",
                table: "messages");

            migrationBuilder.DropColumn(
                name: "reference",
                table: "messages");
        }
    }
}
