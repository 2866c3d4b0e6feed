using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace TwaBot.Api.Data.Migrations
{
    /// <inheritdoc />
    public partial class MessagesAndWebhooks : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "contacts",
                columns: table => new
                {
                    id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    business_id = table.Column<long>(type: "INTEGER", nullable: false),
                    phone = table.Column<string>(type: "TEXT", nullable: false),
                    name = table.Column<string>(type: "TEXT", nullable: true),
                    last_inbound_at = table.Column<DateTime>(type: "TEXT", nullable: true),
                    marketing_opt_out_at = table.Column<DateTime>(type: "TEXT", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_contacts", x => x.id);
                    table.ForeignKey(
                        name: "fk_contacts_businesses_business_id",
                        column: x => x.business_id,
                        principalTable: "businesses",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "inbound_messages",
                columns: table => new
                {
                    id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    business_id = table.Column<long>(type: "INTEGER", nullable: false),
                    wamid = table.Column<string>(type: "TEXT", nullable: false),
                    from = table.Column<string>(type: "TEXT", nullable: false),
                    type = table.Column<string>(type: "TEXT", nullable: false),
                    text = table.Column<string>(type: "TEXT", nullable: true),
                    sent_at = table.Column<DateTime>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_inbound_messages", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "messages",
                columns: table => new
                {
                    id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    business_id = table.Column<long>(type: "INTEGER", nullable: false),
                    api_key_id = table.Column<long>(type: "INTEGER", nullable: false),
                    wamid = table.Column<string>(type: "TEXT", nullable: true),
                    to = table.Column<string>(type: "TEXT", nullable: false),
                    kind = table.Column<string>(type: "TEXT", nullable: false),
                    template_name = table.Column<string>(type: "TEXT", nullable: true),
                    api_status = table.Column<string>(type: "TEXT", nullable: false),
                    delivery_status = table.Column<string>(type: "TEXT", nullable: true),
                    status_rank = table.Column<int>(type: "INTEGER", nullable: false),
                    failure_code = table.Column<int>(type: "INTEGER", nullable: true),
                    failure_reason = table.Column<string>(type: "TEXT", nullable: true),
                    created_at = table.Column<DateTime>(type: "TEXT", nullable: false),
                    sent_at = table.Column<DateTime>(type: "TEXT", nullable: true),
                    updated_at = table.Column<DateTime>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_messages", x => x.id);
                    table.ForeignKey(
                        name: "fk_messages_businesses_business_id",
                        column: x => x.business_id,
                        principalTable: "businesses",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "parked_statuses",
                columns: table => new
                {
                    id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    business_id = table.Column<long>(type: "INTEGER", nullable: false),
                    wamid = table.Column<string>(type: "TEXT", nullable: false),
                    message_id = table.Column<long>(type: "INTEGER", nullable: true),
                    status = table.Column<string>(type: "TEXT", nullable: false),
                    occurred_at = table.Column<DateTime>(type: "TEXT", nullable: false),
                    error_code = table.Column<int>(type: "INTEGER", nullable: true),
                    error_title = table.Column<string>(type: "TEXT", nullable: true),
                    error_details = table.Column<string>(type: "TEXT", nullable: true),
                    received_at = table.Column<DateTime>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_parked_statuses", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "webhook_events",
                columns: table => new
                {
                    id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    received_at = table.Column<DateTime>(type: "TEXT", nullable: false),
                    body_sha256 = table.Column<byte[]>(type: "BLOB", nullable: false),
                    body = table.Column<byte[]>(type: "BLOB", nullable: false),
                    applied_at = table.Column<DateTime>(type: "TEXT", nullable: true),
                    attempts = table.Column<int>(type: "INTEGER", nullable: false),
                    last_error = table.Column<string>(type: "TEXT", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_webhook_events", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "message_status_events",
                columns: table => new
                {
                    id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    message_id = table.Column<long>(type: "INTEGER", nullable: false),
                    status = table.Column<string>(type: "TEXT", nullable: false),
                    occurred_at = table.Column<DateTime>(type: "TEXT", nullable: false),
                    error_code = table.Column<int>(type: "INTEGER", nullable: true),
                    error_title = table.Column<string>(type: "TEXT", nullable: true),
                    received_at = table.Column<DateTime>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_message_status_events", x => x.id);
                    table.ForeignKey(
                        name: "fk_message_status_events_messages_message_id",
                        column: x => x.message_id,
                        principalTable: "messages",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "ix_contacts_business_id_phone",
                table: "contacts",
                columns: new[] { "business_id", "phone" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_inbound_messages_business_id_from",
                table: "inbound_messages",
                columns: new[] { "business_id", "from" });

            migrationBuilder.CreateIndex(
                name: "ix_inbound_messages_wamid",
                table: "inbound_messages",
                column: "wamid",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_message_status_events_message_id_status_occurred_at",
                table: "message_status_events",
                columns: new[] { "message_id", "status", "occurred_at" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_messages_business_id_id",
                table: "messages",
                columns: new[] { "business_id", "id" });

            migrationBuilder.CreateIndex(
                name: "ix_messages_wamid",
                table: "messages",
                column: "wamid",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_parked_statuses_business_id_wamid",
                table: "parked_statuses",
                columns: new[] { "business_id", "wamid" });

            migrationBuilder.CreateIndex(
                name: "ix_parked_statuses_received_at",
                table: "parked_statuses",
                column: "received_at");

            migrationBuilder.CreateIndex(
                name: "ix_webhook_events_applied_at",
                table: "webhook_events",
                column: "applied_at");

            migrationBuilder.CreateIndex(
                name: "ix_webhook_events_body_sha256",
                table: "webhook_events",
                column: "body_sha256",
                unique: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "contacts");

            migrationBuilder.DropTable(
                name: "inbound_messages");

            migrationBuilder.DropTable(
                name: "message_status_events");

            migrationBuilder.DropTable(
                name: "parked_statuses");

            migrationBuilder.DropTable(
                name: "webhook_events");

            migrationBuilder.DropTable(
                name: "messages");
        }
    }
}
