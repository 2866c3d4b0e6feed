using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace TwaBot.Api.Data.Migrations
{
    /// <inheritdoc />
    public partial class EncryptedAccessTokens : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.RenameColumn(
                name: "access_token",
                table: "whatsapp_connections",
                newName: "protected_access_token");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.RenameColumn(
                name: "protected_access_token",
                table: "whatsapp_connections",
                newName: "access_token");
        }
    }
}
