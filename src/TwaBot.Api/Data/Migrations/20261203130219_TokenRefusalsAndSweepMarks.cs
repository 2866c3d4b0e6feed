using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace TwaBot.Api.Data.Migrations
{
    /// <inheritdoc />
    public partial class TokenRefusalsAndSweepMarks : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<DateTime>(
                name: "token_refused_at",
                table: "whatsapp_connections",
                type: "TEXT",
                nullable: true);

            migrationBuilder.CreateTable(
                name: "sweep_marks",
                columns: table => new
                {
                    name = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    done_before = table.Column<DateTime>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_sweep_marks", x => x.name);
                });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "sweep_marks");

            migrationBuilder.DropColumn(
                name: "token_refused_at",
                table: "whatsapp_connections");
        }
    }
}
