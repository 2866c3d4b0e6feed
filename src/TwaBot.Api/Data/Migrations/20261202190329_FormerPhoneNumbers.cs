using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace TwaBot.Api.Data.Migrations
{
    /// <inheritdoc />
    public partial class FormerPhoneNumbers : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<DateTime>(
                name: "disconnected_at",
                table: "businesses",
                type: "TEXT",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "former_phone_number_id",
                table: "businesses",
                type: "TEXT",
                nullable: true);

            migrationBuilder.CreateIndex(
                name: "ix_businesses_former_phone_number_id",
                table: "businesses",
                column: "former_phone_number_id");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "ix_businesses_former_phone_number_id",
                table: "businesses");

            migrationBuilder.DropColumn(
                name: "disconnected_at",
                table: "businesses");

            migrationBuilder.DropColumn(
                name: "former_phone_number_id",
                table: "businesses");
        }
    }
}
