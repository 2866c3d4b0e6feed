using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace TwaBot.Api.Data.Migrations
{
    /// <inheritdoc />
    public partial class OutOfOrderPreferences : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<DateTime>(
                name: "marketing_preference_at",
                table: "contacts",
                type: "TEXT",
                nullable: true);

            migrationBuilder.AddColumn<DateTime>(
                name: "opt_keyword_at",
                table: "contacts",
                type: "TEXT",
                nullable: true);

            // Contacts keep what was applied before: a recorded marketing stop is the latest preference,
            // and the latest stored STOP / START-type message (whole message, any case) the latest keyword.
            migrationBuilder.Sql("UPDATE contacts SET marketing_preference_at = marketing_opt_out_at;");
            migrationBuilder.Sql("""
                UPDATE contacts SET opt_keyword_at = (
                    SELECT max(m.sent_at) FROM inbound_messages m
                    WHERE m.business_id = contacts.business_id AND m."from" = contacts.phone
                        AND upper(trim(m.text, ' ' || char(9) || char(10) || char(13))) IN ('STOP', 'UNSUBSCRIBE', 'START', 'SUBSCRIBE'));
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "marketing_preference_at",
                table: "contacts");

            migrationBuilder.DropColumn(
                name: "opt_keyword_at",
                table: "contacts");
        }
    }
}
