using System.Reflection;
using System.Runtime.CompilerServices;
using System.Text;

namespace EdgeCodec.Tests.PublicApi;

/// <summary>
/// Renders an assembly's public surface (exported types and their public and protected members) as sorted text lines,
/// and compares it with the baseline committed beside the library's project (<c>PublicAPI.txt</c>). A change to the
/// public API then shows up as a diff of that file in review. Linked, with <see cref="PublicApiTests"/>, into every
/// library's test project.
/// </summary>
/// <remarks>
/// To accept a deliberate change: <c>EDGECODEC_UPDATE_PUBLIC_API=1 dotnet test</c>, then review and commit the file.
/// </remarks>
internal static class PublicApiSurface
{
    private const BindingFlags Declared =
        BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;

    /// <summary>Fails with the added and removed lines (each member named with its type) if <paramref name="assembly"/> differs from its baseline.</summary>
    public static void AssertMatchesBaseline(Assembly assembly)
    {
        string name = assembly.GetName().Name!;
        string path = BaselinePath(name);
        string actual = string.Join('\n', Render(assembly)) + "\n";
        if (Environment.GetEnvironmentVariable("EDGECODEC_UPDATE_PUBLIC_API") == "1")
        {
            File.WriteAllText(path, actual);
            return;
        }

        Assert.True(File.Exists(path), $"{path} is missing; create it with EDGECODEC_UPDATE_PUBLIC_API=1 dotnet test");
        string[] expected = Qualified(File.ReadAllText(path).Replace("\r", "").Split('\n', StringSplitOptions.RemoveEmptyEntries)).ToArray();
        string[] lines = Qualified(actual.Split('\n', StringSplitOptions.RemoveEmptyEntries)).ToArray();
        var added = lines.Except(expected).Select(l => "+ " + l);
        var removed = expected.Except(lines).Select(l => "- " + l);
        string diff = string.Join('\n', removed.Concat(added));
        Assert.True(diff.Length == 0,
            $"The public API of {name} changed against {path}:\n{diff}\n" +
            "If the change is deliberate, run EDGECODEC_UPDATE_PUBLIC_API=1 dotnet test and commit the file.");
    }

    /// <summary>
    /// The surface as text: exported types in ordinal order, each followed by its public and protected members
    /// (indented two spaces, ordinal order).
    /// </summary>
    public static List<string> Render(Assembly assembly)
    {
        var lines = new List<string>();
        foreach (Type type in assembly.GetExportedTypes().OrderBy(TypeName, StringComparer.Ordinal))
        {
            lines.Add(TypeLine(type));
            var members = new List<string>();
            if (type.IsEnum)
            {
                foreach (FieldInfo f in type.GetFields(BindingFlags.Public | BindingFlags.Static))
                {
                    members.Add($"{f.Name} = {Convert.ToInt64(f.GetRawConstantValue(), System.Globalization.CultureInfo.InvariantCulture)}");
                }
            }
            else if (!typeof(Delegate).IsAssignableFrom(type)) // a delegate's type line is its whole signature
            {
                foreach (MemberInfo member in type.GetMembers(Declared))
                {
                    if (MemberLine(type, member) is { } line)
                    {
                        members.Add(line);
                    }
                }
            }

            members.Sort(StringComparer.Ordinal);
            lines.AddRange(members.Select(m => "  " + m));
        }

        return lines;
    }

    /// <summary>Each member line qualified by its type's line, so that a diff names the type.</summary>
    private static IEnumerable<string> Qualified(IEnumerable<string> lines)
    {
        string owner = "";
        foreach (string line in lines)
        {
            if (line.StartsWith("  ", StringComparison.Ordinal))
            {
                yield return owner + " :: " + line.TrimStart();
            }
            else
            {
                owner = line;
                yield return line;
            }
        }
    }

    private static string BaselinePath(string assemblyName)
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "EdgeCodec.sln")))
        {
            dir = dir.Parent;
        }

        Assert.True(dir is not null, "EdgeCodec.sln not found above " + AppContext.BaseDirectory);
        foreach (string area in new[] { "sdk", "backends" })
        {
            string project = Path.Combine(dir!.FullName, area, assemblyName);
            if (Directory.Exists(project))
            {
                return Path.Combine(project, "PublicAPI.txt");
            }
        }

        throw new DirectoryNotFoundException($"no project folder for {assemblyName} under sdk/ or backends/");
    }

    private static readonly Dictionary<Type, string> Keywords = new()
    {
        [typeof(void)] = "void", [typeof(bool)] = "bool", [typeof(byte)] = "byte", [typeof(sbyte)] = "sbyte",
        [typeof(short)] = "short", [typeof(ushort)] = "ushort", [typeof(int)] = "int", [typeof(uint)] = "uint",
        [typeof(long)] = "long", [typeof(ulong)] = "ulong", [typeof(float)] = "float", [typeof(double)] = "double",
        [typeof(decimal)] = "decimal", [typeof(char)] = "char", [typeof(string)] = "string", [typeof(object)] = "object",
        [typeof(nint)] = "nint", [typeof(nuint)] = "nuint",
    };

    private static bool Visible(MethodBase? m) => m is not null && (m.IsPublic || m.IsFamily || m.IsFamilyOrAssembly);

    private static bool Visible(FieldInfo f) => f.IsPublic || f.IsFamily || f.IsFamilyOrAssembly;

    private static string TypeLine(Type type)
    {
        string kind = type.IsEnum ? "enum" : type.IsInterface ? "interface" : type.IsValueType ? "struct"
            : typeof(Delegate).IsAssignableFrom(type) ? "delegate" : "class";
        var mods = new StringBuilder("public ");
        if (type.IsClass && kind == "class")
        {
            if (type.IsAbstract && type.IsSealed)
            {
                mods.Append("static ");
            }
            else if (type.IsAbstract)
            {
                mods.Append("abstract ");
            }
            else if (type.IsSealed)
            {
                mods.Append("sealed ");
            }
        }

        if (type.IsValueType && type.IsDefined(typeof(IsReadOnlyAttribute), false))
        {
            mods.Append("readonly ");
        }

        if (type.IsByRefLike)
        {
            mods.Append("ref ");
        }

        var bases = new List<string>();
        if (kind == "class" && type.BaseType is { } b && b != typeof(object))
        {
            bases.Add(TypeName(b));
        }

        if (kind == "delegate")
        {
            MethodInfo invoke = type.GetMethod("Invoke")!;
            return $"{mods}delegate {TypeName(invoke.ReturnType)} {TypeName(type)}({Parameters(invoke)})";
        }

        if (type.IsEnum)
        {
            bases.Add(TypeName(Enum.GetUnderlyingType(type)));
        }
        else
        {
            bases.AddRange(type.GetInterfaces().Where(i => i.IsPublic || i.IsNestedPublic).Select(TypeName).Order(StringComparer.Ordinal));
        }

        return $"{mods}{kind} {TypeName(type)}" + (bases.Count > 0 ? " : " + string.Join(", ", bases) : "");
    }

    private static string? MemberLine(Type owner, MemberInfo member)
    {
        if (member.Name.Contains('<') || member.IsDefined(typeof(CompilerGeneratedAttribute), false) && member is not MethodBase)
        {
            return null; // compiler plumbing (backing fields, record clone)
        }

        switch (member)
        {
            case ConstructorInfo c when Visible(c) && !c.IsStatic:
                return $"{Access(c)}ctor({Parameters(c)})";
            case MethodInfo m when Visible(m) && (!m.IsSpecialName || m.Name.StartsWith("op_", StringComparison.Ordinal)):
                return $"{Access(m)}{MethodModifiers(owner, m)}{TypeName(m.ReturnType)} {m.Name}{GenericArguments(m)}({Parameters(m)})";
            case PropertyInfo p when Visible(p.GetMethod) || Visible(p.SetMethod):
            {
                MethodInfo any = Visible(p.GetMethod) ? p.GetMethod! : p.SetMethod!;
                var accessors = new StringBuilder();
                if (Visible(p.GetMethod))
                {
                    accessors.Append("get; ");
                }

                if (Visible(p.SetMethod))
                {
                    bool init = p.SetMethod!.ReturnParameter.GetRequiredCustomModifiers().Contains(typeof(IsExternalInit));
                    accessors.Append(init ? "init; " : "set; ");
                }

                ParameterInfo[] index = p.GetIndexParameters();
                string name = index.Length == 0 ? p.Name : $"this[{string.Join(", ", index.Select(Parameter))}]";
                return $"{Access(any)}{MethodModifiers(owner, any)}{TypeName(p.PropertyType)} {name} {{ {accessors}}}";
            }
            case EventInfo e when Visible(e.AddMethod):
                return $"{Access(e.AddMethod!)}{MethodModifiers(owner, e.AddMethod!)}event {TypeName(e.EventHandlerType!)} {e.Name}";
            case FieldInfo f when Visible(f):
                string prefix = f.IsLiteral ? "const " : (f.IsStatic ? "static " : "") + (f.IsInitOnly ? "readonly " : "");
                string value = f.IsLiteral ? " = " + Literal(f.GetRawConstantValue()) : "";
                return $"{Access(f)}{prefix}{TypeName(f.FieldType)} {f.Name}{value}";
            default:
                return null;
        }
    }

    private static string Access(MethodBase m) => m.IsPublic ? "" : "protected ";

    private static string Access(FieldInfo f) => f.IsPublic ? "" : "protected ";

    private static string MethodModifiers(Type owner, MethodInfo m)
    {
        if (m.IsStatic)
        {
            return owner.IsInterface && m.IsAbstract ? "static abstract " : "static ";
        }

        if (owner.IsInterface)
        {
            return "";
        }

        if (m.IsAbstract)
        {
            return "abstract ";
        }

        if (m.IsVirtual && !m.IsFinal)
        {
            return m.GetBaseDefinition() == m ? "virtual " : "override ";
        }

        return m.IsVirtual && m.GetBaseDefinition() != m ? "sealed override " : "";
    }

    private static string GenericArguments(MethodInfo m) =>
        m.IsGenericMethodDefinition ? "<" + string.Join(", ", m.GetGenericArguments().Select(a => a.Name)) + ">" : "";

    private static string Parameters(MethodBase m) => string.Join(", ", m.GetParameters().Select(Parameter));

    private static string Parameter(ParameterInfo p)
    {
        Type t = p.ParameterType;
        string mod = "";
        if (t.IsByRef)
        {
            t = t.GetElementType()!;
            mod = p.IsOut ? "out " : p.IsIn ? "in " : "ref ";
        }

        if (p.IsDefined(typeof(ParamArrayAttribute), false))
        {
            mod = "params ";
        }

        string dflt = p.HasDefaultValue ? " = " + Literal(p.RawDefaultValue) : "";
        return $"{mod}{TypeName(t)} {p.Name}{dflt}";
    }

    private static string Literal(object? value) => value switch
    {
        null => "null",
        string s => "\"" + s + "\"",
        bool b => b ? "true" : "false",
        IFormattable f => f.ToString(null, System.Globalization.CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };

    private static string TypeName(Type t)
    {
        if (t.IsByRef)
        {
            return "ref " + TypeName(t.GetElementType()!);
        }

        if (t.IsArray)
        {
            return TypeName(t.GetElementType()!) + "[" + new string(',', t.GetArrayRank() - 1) + "]";
        }

        if (t.IsPointer)
        {
            return TypeName(t.GetElementType()!) + "*";
        }

        if (t.IsGenericParameter)
        {
            return t.Name;
        }

        if (Nullable.GetUnderlyingType(t) is { } inner)
        {
            return TypeName(inner) + "?";
        }

        if (Keywords.TryGetValue(t, out string? keyword))
        {
            return keyword;
        }

        int tick = t.Name.IndexOf('`');
        string simple = tick >= 0 ? t.Name[..tick] : t.Name;
        string name = t.IsNested ? TypeName(t.DeclaringType!) + "." + simple : (t.Namespace is null ? simple : t.Namespace + "." + simple);

        if (t.IsGenericType)
        {
            // Only the arguments this type adds (a nested type's outer arguments belong to the outer name).
            Type[] args = t.GetGenericArguments();
            int outer = t.IsNested ? t.DeclaringType!.GetGenericArguments().Length : 0;
            if (args.Length > outer)
            {
                name += "<" + string.Join(", ", args.Skip(outer).Select(TypeName)) + ">";
            }
        }

        return name;
    }
}
