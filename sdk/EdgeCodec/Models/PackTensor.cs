namespace EdgeCodec.Models;

/// <summary>One integer tensor of <c>weights.bin</c>, decoded from little-endian bytes into a typed array.</summary>
/// <param name="Name">Name in the tensor directory.</param>
/// <param name="DType"><c>i8</c>, <c>i32</c> or <c>u8</c>.</param>
/// <param name="Shape">Dimensions, outermost first.</param>
/// <param name="Data"><see cref="sbyte"/>[], <see cref="int"/>[] or <see cref="byte"/>[] by <paramref name="DType"/>.</param>
internal sealed record PackTensor(string Name, string DType, int[] Shape, Array Data)
{
    public string ShapeText => $"[{string.Join(", ", Shape)}]";
}
