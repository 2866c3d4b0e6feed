using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace TwaBot.Api.Data.Migrations
{
    /// <inheritdoc />
    public partial class RecipientWaIdLookup : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateIndex(
                name: "ix_recipient_wa_ids_business_id_wa_id",
                table: "recipient_wa_ids",
                columns: new[] { "business_id", "wa_id" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "ix_recipient_wa_ids_business_id_wa_id",
                table: "recipient_wa_ids");
        }
    }
}
