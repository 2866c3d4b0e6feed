using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace TwaBot.Api.Data.Migrations
{
    /// <inheritdoc />
    public partial class ContactLastInboundNumber : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "last_inbound_phone_number_id",
                table: "contacts",
                type: "TEXT",
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "last_inbound_phone_number_id",
                table: "contacts");
        }
    }
}
