using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace TwaBot.Api.Data.Migrations
{
    /// <inheritdoc />
    public partial class TemplateStatusReasonAndCategoryTime : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<DateTime>(
                name: "category_event_at",
                table: "templates",
                type: "TEXT",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "status_reason",
                table: "templates",
                type: "TEXT",
                nullable: true);

            // Until now a create or sync read the category together with the status, and the status time stood for both.
            migrationBuilder.Sql("UPDATE templates SET category_event_at = status_event_at;");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "category_event_at",
                table: "templates");

            migrationBuilder.DropColumn(
                name: "status_reason",
                table: "templates");
        }
    }
}
