using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace TwaBot.Api.Data.Migrations
{
    /// <inheritdoc />
    public partial class TemplateStatusesOfEarlierVersions : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            // Versions before 2026-12-01 stored a template event's name as the template's status, and sends refuse any
            // status but APPROVED: REINSTATED and UNARCHIVED (which now make a template APPROVED) and FLAGGED (negative
            // feedback on an approved template, which now changes no status) left sendable templates refused until a
            // sync. LOCKED, UNLOCKED and LIMIT_EXCEEDED hid the status they replaced: a sync tells it (docs/operations.md).
            migrationBuilder.Sql("UPDATE templates SET status = 'APPROVED' WHERE status IN ('REINSTATED', 'UNARCHIVED', 'FLAGGED');");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            // Nothing to undo: APPROVED is what this version would have stored for those events.
        }
    }
}
