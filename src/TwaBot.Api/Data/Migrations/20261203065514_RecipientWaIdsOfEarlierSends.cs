using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace TwaBot.Api.Data.Migrations
{
    /// <inheritdoc />
    public partial class RecipientWaIdsOfEarlierSends : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            // Sends before RecipientWaIds recorded no wa_id, so a customer whose wa_id differs from the number dialled
            // (a Brazilian mobile without its ninth digit) and who had sent STOP from it was messaged again after the
            // upgrade, until a send recorded the pair. Meta's status reports name the wa_id (recipient_id) of the message
            // they report on, and stored deliveries keep their bodies for KeepBodiesDays: the latest pair each names.
            // A body that is not JSON, or not Meta's shape, names none (json_each would stop the migration on it).
            migrationBuilder.Sql("""
                INSERT INTO recipient_wa_ids (business_id, phone, wa_id, updated_at)
                SELECT m.business_id, m."to", r.wa_id, max(r.received_at)
                FROM (
                    SELECT e.received_at AS received_at,
                        json_extract(CASE WHEN s.type = 'object' THEN s.value END, '$.id') AS wamid,
                        CAST(json_extract(CASE WHEN s.type = 'object' THEN s.value END, '$.recipient_id') AS TEXT) AS wa_id
                    FROM webhook_events AS e,
                        json_each(CASE WHEN json_valid(CAST(e.body AS TEXT)) THEN CAST(e.body AS TEXT) ELSE '{}' END, '$.entry') AS en,
                        json_each(CASE WHEN en.type = 'object' THEN en.value ELSE '{}' END, '$.changes') AS c,
                        json_each(CASE WHEN c.type = 'object' THEN c.value ELSE '{}' END, '$.value.statuses') AS s
                ) AS r
                JOIN messages AS m ON m.wamid = r.wamid
                WHERE r.wa_id <> '' AND r.wa_id <> m."to"
                GROUP BY m.business_id, m."to"
                ON CONFLICT (business_id, phone) DO NOTHING;
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            // Nothing to undo: the pairs are what this version records at a send.
        }
    }
}
