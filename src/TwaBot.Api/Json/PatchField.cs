using System.Text.Json;
using System.Text.Json.Serialization;

namespace TwaBot.Api.Json;

/// <summary>
/// A PATCH field: absent (leave as is), or present with a value that may be null (clear it).
/// A plain nullable cannot tell "not sent" from "sent as null".
/// </summary>
[JsonConverter(typeof(PatchFieldConverterFactory))]
public readonly record struct PatchField<T>(bool IsSet, T? Value);

public sealed class PatchFieldConverterFactory : JsonConverterFactory
{
    public override bool CanConvert(Type typeToConvert) =>
        typeToConvert.IsGenericType && typeToConvert.GetGenericTypeDefinition() == typeof(PatchField<>);

    public override JsonConverter CreateConverter(Type typeToConvert, JsonSerializerOptions options) =>
        (JsonConverter)Activator.CreateInstance(typeof(PatchFieldConverter<>).MakeGenericType(typeToConvert.GetGenericArguments()[0]))!;

    private sealed class PatchFieldConverter<T> : JsonConverter<PatchField<T>>
    {
        public override bool HandleNull => true;

        public override PatchField<T> Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        {
            if (reader.TokenType == JsonTokenType.Null)
            {
                return new PatchField<T>(true, default);
            }

            try
            {
                return new PatchField<T>(true, JsonSerializer.Deserialize<T>(ref reader, options));
            }
            catch (JsonException error)
            {
                // The nested call reports its own root ("$") as the path; an error without a path gets
                // this property's from the serializer, so the answer can name the field; the reader's own
                // exception stays inside, since it says what type the field takes.
                throw new JsonException(error.Message, error.InnerException);
            }
        }

        public override void Write(Utf8JsonWriter writer, PatchField<T> value, JsonSerializerOptions options)
        {
            ArgumentNullException.ThrowIfNull(writer);
            JsonSerializer.Serialize(writer, value.Value, options);
        }
    }
}
