using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace TwaBot.Api.Data.Migrations
{
    /// <inheritdoc />
    public partial class HeldUserEvents : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "held_user_events",
                columns: table => new
                {
                    id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    business_id = table.Column<long>(type: "INTEGER", nullable: false),
                    user_id = table.Column<string>(type: "TEXT", nullable: false),
                    name = table.Column<string>(type: "TEXT", nullable: true),
                    last_inbound_at = table.Column<DateTime>(type: "TEXT", nullable: true),
                    opted_out = table.Column<bool>(type: "INTEGER", nullable: true),
                    opt_keyword_at = table.Column<DateTime>(type: "TEXT", nullable: true),
                    marketing_stopped = table.Column<bool>(type: "INTEGER", nullable: true),
                    marketing_preference_at = table.Column<DateTime>(type: "TEXT", nullable: true),
                    received_at = table.Column<DateTime>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_held_user_events", x => x.id);
                    table.ForeignKey(
                        name: "fk_held_user_events_businesses_business_id",
                        column: x => x.business_id,
                        principalTable: "businesses",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "ix_held_user_events_business_id_user_id",
                table: "held_user_events",
                columns: new[] { "business_id", "user_id" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_held_user_events_received_at",
                table: "held_user_events",
                column: "received_at");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "held_user_events");
        }
    }
}
