using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace TwaBot.Api.Data.Migrations
{
    /// <inheritdoc />
    public partial class TemplateEditsAndQuality : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<DateTime>(
                name: "components_event_at",
                table: "templates",
                type: "TEXT",
                nullable: true);

            migrationBuilder.AddColumn<DateTime>(
                name: "quality_event_at",
                table: "templates",
                type: "TEXT",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "quality_score",
                table: "templates",
                type: "TEXT",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "quality_score",
                table: "sandbox_templates",
                type: "TEXT",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "rejected_reason",
                table: "sandbox_templates",
                type: "TEXT",
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "components_event_at",
                table: "templates");

            migrationBuilder.DropColumn(
                name: "quality_event_at",
                table: "templates");

            migrationBuilder.DropColumn(
                name: "quality_score",
                table: "templates");

            migrationBuilder.DropColumn(
                name: "quality_score",
                table: "sandbox_templates");

            migrationBuilder.DropColumn(
                name: "rejected_reason",
                table: "sandbox_templates");
        }
    }
}
