using System.Text.Json;
using EdgeCodec.Format;

namespace EdgeCodec.Models;

/// <summary>
/// Typed access to JSON values of a model pack that reports every problem as an <see cref="EdgeCodecFormatException"/>
/// naming the entry and the JSON path, e.g. <c>manifest.json: layout.groups: expected an integer</c>.
/// </summary>
internal readonly struct PackJson
{
    public PackJson(string entry, JsonElement element, string path)
    {
        Entry = entry;
        Element = element;
        Path = path;
    }

    public string Entry { get; }

    public JsonElement Element { get; }

    public string Path { get; }

    public static JsonDocument Parse(string entry, ReadOnlyMemory<byte> utf8)
    {
        // JsonDocument checks the structure but leaves a string's bytes until it is read, where bad UTF-8 would
        // surface as an InvalidOperationException: check them all here (found by the manifest fuzz target).
        if (!System.Text.Unicode.Utf8.IsValid(utf8.Span))
        {
            throw new EdgeCodecFormatException($"{entry}: not valid UTF-8.", FormatError.Malformed);
        }

        try
        {
            return JsonDocument.Parse(utf8, new JsonDocumentOptions { MaxDepth = 16 });
        }
        catch (JsonException ex)
        {
            throw new EdgeCodecFormatException($"{entry}: not valid JSON ({ex.Message}).", FormatError.Malformed, null, ex);
        }
    }

    public EdgeCodecFormatException Error(string problem)
        => new($"{Entry}: {(Path.Length == 0 ? "" : Path + ": ")}{problem}", FormatError.Malformed);

    public bool Has(string name) => Element.ValueKind == JsonValueKind.Object && Element.TryGetProperty(name, out _);

    public PackJson this[string name]
    {
        get
        {
            if (Element.ValueKind != JsonValueKind.Object)
            {
                throw Error("expected an object");
            }

            string path = Path.Length == 0 ? name : $"{Path}.{name}";
            return Element.TryGetProperty(name, out JsonElement child)
                ? new PackJson(Entry, child, path)
                : throw new EdgeCodecFormatException($"{Entry}: missing '{path}'.", FormatError.Malformed);
        }
    }

    public PackJson this[int index] => new(Entry, Element[index], $"{Path}[{index}]");

    public int Count => Element.ValueKind == JsonValueKind.Array ? Element.GetArrayLength() : throw Error("expected an array");

    public IEnumerable<PackJson> Items()
    {
        int n = Count;
        for (int i = 0; i < n; i++)
        {
            yield return this[i];
        }
    }

    public IEnumerable<(string Name, PackJson Value)> Properties()
    {
        if (Element.ValueKind != JsonValueKind.Object)
        {
            throw Error("expected an object");
        }

        foreach (JsonProperty p in Element.EnumerateObject())
        {
            yield return (p.Name, new PackJson(Entry, p.Value, Path.Length == 0 ? p.Name : $"{Path}.{p.Name}"));
        }
    }

    public string String() => Element.ValueKind == JsonValueKind.String ? Element.GetString()! : throw Error("expected a string");

    public long Long() => Element.ValueKind == JsonValueKind.Number && Element.TryGetInt64(out long v) ? v : throw Error("expected an integer");

    public int Int() => Element.ValueKind == JsonValueKind.Number && Element.TryGetInt32(out int v) ? v : throw Error("expected a 32-bit integer");

    public int Int(int min, int max)
    {
        int v = Int();
        return v >= min && v <= max ? v : throw Error($"{v} is outside {min}..{max}");
    }

    public double Double()
    {
        double v = Element.ValueKind == JsonValueKind.Number ? Element.GetDouble() : throw Error("expected a number");
        return double.IsFinite(v) ? v : throw Error("expected a finite number");
    }

    public int[] IntArray()
    {
        var result = new int[Count];
        int i = 0;
        foreach (PackJson item in Items())
        {
            result[i++] = item.Int();
        }

        return result;
    }
}
