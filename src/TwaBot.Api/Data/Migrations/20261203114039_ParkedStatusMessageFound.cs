using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace TwaBot.Api.Data.Migrations
{
    /// <inheritdoc />
    public partial class ParkedStatusMessageFound : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<bool>(
                name: "message_found",
                table: "parked_statuses",
                type: "INTEGER",
                nullable: false,
                defaultValue: false);

            migrationBuilder.CreateIndex(
                name: "ix_parked_statuses_message_found",
                table: "parked_statuses",
                column: "message_found",
                filter: "message_found");

            // A parked report is its message's by (business, wamid). A message gets its wamid from Meta's answer to the
            // send, from a report's callback data after a send that never heard back, or (tools, restores) in its INSERT:
            // the triggers mark the reports waiting for it whoever wrote it, so the processor need not re-read them all.
            migrationBuilder.Sql("""
                CREATE TRIGGER messages_insert_finds_parked AFTER INSERT ON messages WHEN NEW.wamid IS NOT NULL
                BEGIN
                    UPDATE parked_statuses SET message_found = 1
                    WHERE business_id = NEW.business_id AND wamid = NEW.wamid AND message_found = 0;
                END;
                """);
            migrationBuilder.Sql("""
                CREATE TRIGGER messages_wamid_finds_parked AFTER UPDATE OF wamid, business_id ON messages WHEN NEW.wamid IS NOT NULL
                BEGIN
                    UPDATE parked_statuses SET message_found = 1
                    WHERE business_id = NEW.business_id AND wamid = NEW.wamid AND message_found = 0;
                END;
                """);

            // Reports parked before the upgrade whose message is already there.
            migrationBuilder.Sql("""
                UPDATE parked_statuses SET message_found = 1
                WHERE EXISTS (SELECT 1 FROM messages m WHERE m.wamid = parked_statuses.wamid AND m.business_id = parked_statuses.business_id);
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("DROP TRIGGER messages_wamid_finds_parked;");
            migrationBuilder.Sql("DROP TRIGGER messages_insert_finds_parked;");

            migrationBuilder.DropIndex(
                name: "ix_parked_statuses_message_found",
                table: "parked_statuses");

            migrationBuilder.DropColumn(
                name: "message_found",
                table: "parked_statuses");
        }
    }
}
