using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace TwaBot.Api.Data.Migrations
{
    /// <inheritdoc />
    public partial class DailyQuota : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<DateOnly>(
                name: "quota_day",
                table: "messages",
                type: "TEXT",
                nullable: false,
                defaultValue: new DateOnly(1, 1, 1));

            migrationBuilder.CreateIndex(
                name: "ix_messages_api_key_id_quota_day",
                table: "messages",
                columns: new[] { "api_key_id", "quota_day" });

            migrationBuilder.CreateIndex(
                name: "ix_messages_api_status_created_at",
                table: "messages",
                columns: new[] { "api_status", "created_at" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "ix_messages_api_key_id_quota_day",
                table: "messages");

            migrationBuilder.DropIndex(
                name: "ix_messages_api_status_created_at",
                table: "messages");

            migrationBuilder.DropColumn(
                name: "quota_day",
                table: "messages");
        }
    }
}
