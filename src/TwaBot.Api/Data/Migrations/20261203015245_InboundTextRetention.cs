using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace TwaBot.Api.Data.Migrations
{
    /// <inheritdoc />
    public partial class InboundTextRetention : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateIndex(
                name: "ix_inbound_messages_sent_at",
                table: "inbound_messages",
                column: "sent_at",
                filter: "text IS NOT NULL");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "ix_inbound_messages_sent_at",
                table: "inbound_messages");
        }
    }
}
