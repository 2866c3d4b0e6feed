using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace TwaBot.Api.Data.Migrations
{
    /// <inheritdoc />
    public partial class WaIdPairsOfEarlierCustomers : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            // Earlier versions paired a wa_id with the number as written only for Brazilian mobiles (Phones/WaIdForms).
            // A Mexican (521 + ten digits) or Argentine (549 + ten digits) customer who wrote or sent STOP before the
            // upgrade is stored under the wa_id alone, so a send to the number as written (52 / 54 + the ten) would miss
            // their STOP. The pair each such contact or suppression implies, as WaIdForms.WrittenNumberOf gives it (the
            // Brazilian one again too, for customers stored before that was recorded), unless a send already named one.
            migrationBuilder.Sql("""
                INSERT INTO recipient_wa_ids (business_id, phone, wa_id, updated_at)
                SELECT business_id,
                    CASE WHEN phone GLOB '55*' THEN substr(phone, 1, 4) || '9' || substr(phone, 5) ELSE substr(phone, 1, 2) || substr(phone, 4) END,
                    phone, strftime('%Y-%m-%d %H:%M:%f', 'now')
                FROM (SELECT business_id, phone FROM contacts UNION SELECT business_id, phone FROM suppressions)
                WHERE phone NOT GLOB '*[^0-9]*'
                    AND (length(phone) = 12 AND phone GLOB '55[1-9]?[6-9]*'
                        OR length(phone) = 13 AND (phone GLOB '521[2-9]*' OR phone GLOB '549[1-3]*'))
                ON CONFLICT (business_id, phone) DO NOTHING;
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            // Nothing to undo: the pairs are what this version records when such a customer writes.
        }
    }
}
