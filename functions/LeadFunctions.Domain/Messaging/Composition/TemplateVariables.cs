using System.Collections;
using Fluid;
using Fluid.Ast;

namespace LeadFunctions.Domain.Messaging.Composition;

/// <summary>
/// Finds the variables a template uses that its model does not have. Liquid renders an unknown variable as nothing, so a
/// template that says <c>{{ lead.fristName }}</c> sends "Hi ," without any error; this reads every member path in the
/// template (in every branch, not only the ones a render takes) and looks each one up in the model, the way Fluid would.
/// </summary>
public static class TemplateVariables
{
    /// <summary>Names Liquid gives a loop's body; never part of a model.</summary>
    private static readonly HashSet<string> BuiltIns = new(StringComparer.OrdinalIgnoreCase) { "forloop", "tablerowloop", "empty", "blank", "nil", "null", "true", "false" };

    /// <summary>What Liquid answers on any list or string: not a key to look up.</summary>
    private static readonly HashSet<string> SizeMembers = new(StringComparer.OrdinalIgnoreCase) { "size" };

    /// <summary>The member paths of <paramref name="template"/> that <paramref name="model"/> lacks, e.g. <c>lead.fristName</c>; sorted, distinct.</summary>
    public static IReadOnlyList<string> Missing(IFluidTemplate template, IReadOnlyDictionary<string, object?> model)
    {
        ArgumentNullException.ThrowIfNull(template);
        ArgumentNullException.ThrowIfNull(model);
        var collector = new Collector();
        collector.VisitTemplate(template);

        var missing = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var path in collector.Paths)
        {
            var resolved = Resolve(path, collector, depth: 0);
            if (resolved is null || BuiltIns.Contains(resolved[0]) || collector.Locals.Contains(resolved[0]))
                continue;
            // Named as the template writes it, so the marketer can search the file for it.
            if (FirstMissing(resolved, model) is not null)
                missing.Add(string.Join('.', path));
        }
        return [.. missing];
    }

    /// <summary>A path whose root is a loop variable, rewritten to start at the loop's source (an element of it: <c>[]</c>).</summary>
    private static List<string>? Resolve(IReadOnlyList<string> path, Collector collector, int depth)
    {
        if (depth > 16)
            return null; // loops over loops deeper than any e-mail needs: not checked rather than looped on
        if (!collector.Loops.TryGetValue(path[0], out var source))
            return [.. path];
        var root = Resolve(source, collector, depth + 1);
        return root is null ? null : [.. root, "[]", .. path.Skip(1)];
    }

    /// <summary>The index of the first segment the model does not have, or null when the path resolves (or stops at a null value).</summary>
    private static int? FirstMissing(IReadOnlyList<string> path, IReadOnlyDictionary<string, object?> model)
    {
        if (!TryGet(model, path[0], out var value))
            return 0;
        for (var i = 1; i < path.Count; i++)
        {
            var segment = path[i];
            switch (value)
            {
                case null:
                    return null; // present but empty in this model: nothing further can be checked
                case string when SizeMembers.Contains(segment):
                    return null;
                case IDictionary dictionary:
                    if (!TryGet(dictionary, segment, out value))
                        return i;
                    break;
                case IEnumerable list and not string:
                    if (SizeMembers.Contains(segment))
                        return null;
                    if (segment is "[]" or "first" or "last")
                    {
                        var items = list.Cast<object?>().ToList();
                        if (items.Count == 0)
                            return null; // an empty list in this model: its items' members cannot be checked
                        value = segment == "last" ? items[^1] : items[0];
                        break;
                    }
                    return i;
                default:
                    return i; // a member of a plain value (a string, a number): Liquid renders nothing
            }
        }
        return null;
    }

    private static bool TryGet(IReadOnlyDictionary<string, object?> model, string key, out object? value)
    {
        if (model.TryGetValue(key, out value))
            return true;
        foreach (var (k, v) in model)
        {
            if (string.Equals(k, key, StringComparison.OrdinalIgnoreCase))
            {
                value = v;
                return true;
            }
        }
        value = null;
        return false;
    }

    private static bool TryGet(IDictionary dictionary, string key, out object? value)
    {
        foreach (DictionaryEntry entry in dictionary)
        {
            if (entry.Key is string k && string.Equals(k, key, StringComparison.OrdinalIgnoreCase))
            {
                value = entry.Value;
                return true;
            }
        }
        value = null;
        return false;
    }

    /// <summary>Every member path, the source of each loop variable, and the names a template assigns itself.</summary>
    private sealed class Collector : AstVisitor
    {
        public List<IReadOnlyList<string>> Paths { get; } = [];
        public Dictionary<string, IReadOnlyList<string>> Loops { get; } = new(StringComparer.OrdinalIgnoreCase);
        public HashSet<string> Locals { get; } = new(StringComparer.OrdinalIgnoreCase);

        protected override Statement VisitForStatement(ForStatement forStatement)
        {
            if (forStatement.Source is MemberExpression source && PathOf(source) is { } path)
                Loops[forStatement.Identifier] = path;
            else
                Locals.Add(forStatement.Identifier); // a loop over a range or a literal: its variable is the template's own
            return base.VisitForStatement(forStatement);
        }

        protected override Statement VisitAssignStatement(AssignStatement assignStatement)
        {
            Locals.Add(assignStatement.Identifier);
            return base.VisitAssignStatement(assignStatement);
        }

        protected override Statement VisitCaptureStatement(CaptureStatement captureStatement)
        {
            Locals.Add(captureStatement.Identifier);
            return base.VisitCaptureStatement(captureStatement);
        }

        protected override Expression VisitMemberExpression(MemberExpression memberExpression)
        {
            if (PathOf(memberExpression) is { } path)
                Paths.Add(path);
            return base.VisitMemberExpression(memberExpression);
        }

        /// <summary>The leading names of a member expression (<c>lead.company</c>); an indexer or call ends what can be checked.</summary>
        private static List<string>? PathOf(MemberExpression expression)
        {
            var names = new List<string>();
            foreach (var segment in expression.Segments)
            {
                if (segment is not IdentifierSegment identifier)
                    break;
                names.Add(identifier.Identifier);
            }
            return names.Count == 0 ? null : names;
        }
    }
}
