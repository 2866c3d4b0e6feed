using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace TwaBot.Api.Data.Migrations
{
    /// <inheritdoc />
    public partial class TimeOrderedWebhookKey : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            // Events stored before keep event_time 0, so a redelivery of one of them is stored and applied
            // once more; statuses (history key, forward-only) and inbound messages (wamid) absorb that.
            migrationBuilder.DropIndex(
                name: "ix_webhook_events_body_sha256",
                table: "webhook_events");

            migrationBuilder.AddColumn<long>(
                name: "event_time",
                table: "webhook_events",
                type: "INTEGER",
                nullable: false,
                defaultValue: 0L);

            migrationBuilder.CreateIndex(
                name: "ix_webhook_events_event_time_body_sha256",
                table: "webhook_events",
                columns: new[] { "event_time", "body_sha256" },
                unique: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "ix_webhook_events_event_time_body_sha256",
                table: "webhook_events");

            migrationBuilder.DropColumn(
                name: "event_time",
                table: "webhook_events");

            migrationBuilder.CreateIndex(
                name: "ix_webhook_events_body_sha256",
                table: "webhook_events",
                column: "body_sha256",
                unique: true);
        }
    }
}
