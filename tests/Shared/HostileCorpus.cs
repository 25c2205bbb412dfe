using System.Globalization;
using System.Text;
using System.Text.Json;
using LeadFunctions.Domain.Tracking;
using LeadFunctions.Domain.Webhooks;

namespace LeadFunctions.Testing.Hostile;

/// <summary>How an endpoint answers a refusal: problem details for scripts and machines, an HTML page for people following a link.</summary>
public enum RefusalBody
{
    /// <summary><c>application/problem+json</c> with <c>type</c>, <c>title</c> and <c>status</c>.</summary>
    Problem,
    /// <summary>A page (<c>text/html</c>) for a person who clicked a link in an e-mail.</summary>
    Html,
    /// <summary>The capture forms: a page or a 303 to the form's error URL for a browser's form post, problem details for a script.</summary>
    Form,
}

/// <summary>One public (anonymous) endpoint: its route under <c>/api/</c>, the methods it takes and how it refuses.</summary>
/// <param name="KeyedMethods">Methods a function-key endpoint serves on the same route (DELETE /api/leads/{id} erases): not sent.</param>
public sealed record PublicEndpoint(string Name, string Route, string[] Methods, RefusalBody Refusal, string[]? KeyedMethods = null);

/// <summary>One generated request. <see cref="Index"/> and the corpus seed reproduce it exactly.</summary>
public sealed record HostileRequest(
    int Index,
    PublicEndpoint Endpoint,
    string Attack,
    string Method,
    string PathAndQuery,
    IReadOnlyList<KeyValuePair<string, string>> Headers,
    byte[]? Body,
    string? ContentType)
{
    /// <summary>A method the endpoint does not take: the host answers 404 and nothing of ours runs.</summary>
    public bool WrongMethod => !Endpoint.Methods.Contains(Method, StringComparer.OrdinalIgnoreCase);

    /// <summary>A forged, edited, expired or wrong-kind credential: must never be answered 2xx or 3xx.</summary>
    public bool MustBeRefused { get; init; }

    public override string ToString() =>
        $"#{Index} {Endpoint.Name} {Attack}: {Method} {(PathAndQuery.Length > 200 ? PathAndQuery[..200] + "…" : PathAndQuery)} ({Body?.Length ?? 0} body bytes, {ContentType ?? "no content type"})";
}

/// <summary>What the generator needs to know about the app under test: the keys it signs and checks with.</summary>
public sealed record HostileCorpusSecrets(string TrackingSigningKey, string CrmWebhookSecret, string DeliveryReportSecret)
{
    /// <summary>The keys the corpus test and tests/load/hostile.sh configure the app with (throwaway values, for test hosts only).</summary>
    public static HostileCorpusSecrets Default { get; } = new(
        TrackingSigningKey: "hostile-corpus-tracking-signing-key-0123456789abcdef",
        CrmWebhookSecret: "hostile-corpus-crm-webhook-secret-0123456789abcdef",
        DeliveryReportSecret: "hostile-corpus-delivery-secret-0123456789abcdef");
}

/// <summary>
/// A seeded generator of malformed and hostile requests against every anonymous endpoint of the app. Request <c>i</c> of seed
/// <c>s</c> is drawn from its own <see cref="Random"/> (seeded from both), so one failing request is rebuilt by its seed and index
/// alone, whatever the corpus size. Shared by the suite's corpus test and the larger run of <c>tests/load/hostile.sh</c>.
/// </summary>
public sealed class HostileCorpus
{
    public static readonly IReadOnlyList<PublicEndpoint> Endpoints =
    [
        new("capture form", "forms/{formId}", ["POST", "OPTIONS"], RefusalBody.Form),
        new("events", "events", ["POST", "OPTIONS"], RefusalBody.Problem),
        new("open pixel", "track/open", ["GET", "HEAD"], RefusalBody.Problem),
        new("click redirect", "track/click", ["GET", "HEAD"], RefusalBody.Html),
        new("unsubscribe", "unsubscribe", ["GET", "POST"], RefusalBody.Html),
        new("consent confirm", "consent/confirm", ["GET", "POST"], RefusalBody.Html),
        new("sales accept", "sales/accept", ["GET", "POST"], RefusalBody.Html),
        new("sales reject", "sales/reject", ["GET", "POST"], RefusalBody.Html),
        new("privacy your-data", "privacy/your-data", ["GET", "POST"], RefusalBody.Html),
        new("privacy confirm", "privacy/confirm", ["GET", "POST"], RefusalBody.Html),
        new("crm webhook", "crm/events", ["POST"], RefusalBody.Problem),
        new("delivery reports", "email/delivery-reports", ["POST", "OPTIONS"], RefusalBody.Problem),
        new("funnel", "funnel", ["GET"], RefusalBody.Problem),
        new("lead list", "leads", ["GET"], RefusalBody.Problem),
        new("lead detail", "leads/{id}", ["GET"], RefusalBody.Problem, KeyedMethods: ["DELETE"]),
        new("stage change", "leads/{id}/stage", ["POST"], RefusalBody.Problem),
        new("workspace page", "workspace", ["GET"], RefusalBody.Problem),
        new("workspace me", "workspace/me", ["GET"], RefusalBody.Problem),
        new("workspace overview", "workspace/overview", ["GET"], RefusalBody.Problem),
        new("workspace calibration", "workspace/calibration", ["GET"], RefusalBody.Problem),
        new("workspace search", "workspace/search", ["POST"], RefusalBody.Problem),
        new("workspace assets", "workspace/assets/{name}", ["GET"], RefusalBody.Problem),
        new("workspace nurture results", "workspace/nurture/results", ["GET"], RefusalBody.Problem),
        new("scoring models", "workspace/scoring/models", ["GET", "POST"], RefusalBody.Problem),
        new("scoring rescore start", "workspace/scoring/rescores", ["POST"], RefusalBody.Problem),
        new("scoring rescore progress", "workspace/scoring/rescores/{id}", ["GET"], RefusalBody.Problem),
    ];

    /// <summary>The form ids of the shipped config/forms.json, plus ids no form has.</summary>
    private static readonly string[] FormIds = ["newsletter", "whitepaper-lead-scoring", "webinar-2025-autumn", "demo-request", "contact-sales"];

    private static readonly string[] WrongMethods = ["PUT", "DELETE", "PATCH", "TRACE", "OPTIONS", "GET", "POST", "HEAD"];

    private static readonly string[] Xss =
    [
        "<img src=x onerror=alert(1)>", "\"><script>alert(1)</script>", "javascript:alert(1)", "<svg/onload=alert(1)>",
        "'\"--></style></script><script>alert(1)</script>", "{{7*7}}", "{% raw %}", "${jndi:ldap://x/a}",
    ];

    private static readonly string[] Injection =
    [
        "' or 1 eq 1", "' or PartitionKey ne '", "x' or RowKey gt '", "1 eq 1", "') or true or ('", "'; DROP TABLE Leads;--",
        "%27%20or%201%20eq%201", "PartitionKey eq 'a' or 1 eq 1", "' and substringof('a',Email) or '",
    ];

    private static readonly string[] Traversal =
    [
        "..%2F..%2Fhost.json", "..%2f..%2fappsettings.json", "%2e%2e%2f%2e%2e%2fetc%2fpasswd", "..%5C..%5Cweb.config", "....%2F%2Fsecret",
        "%252e%252e%252fhost.json", "dashboard.js%00.png", "app.css%3F.js", ".%2Fdashboard.js", "%C0%AE%C0%AE%2Fhost.json",
        "local.settings.json", "LeadFunctions.dll", "dashboard.js%2F..%2F..%2Fhost.json",
    ];

    private readonly int _seed;
    private readonly HostileCorpusSecrets _secrets;
    private readonly TrackingTokenSigner _signer;
    private readonly TrackingTokenSigner _foreignSigner;

    private readonly DateTimeOffset _now;

    /// <param name="now">The time tokens and signatures are made at (genuine ones are minutes old, expired ones years); default the clock's.</param>
    public HostileCorpus(int seed, HostileCorpusSecrets secrets, DateTimeOffset? now = null)
    {
        ArgumentNullException.ThrowIfNull(secrets);
        _seed = seed;
        _now = now ?? DateTimeOffset.UtcNow;
        _secrets = secrets;
        _signer = new TrackingTokenSigner(secrets.TrackingSigningKey);
        _foreignSigner = new TrackingTokenSigner("an-attackers-own-key-that-is-long-enough-0123456789");
    }

    public int Seed => _seed;

    /// <summary>Every click URL a genuine token in the corpus carries with an http(s) scheme: the only places a click may redirect.</summary>
    public static readonly IReadOnlyList<string> SignedClickUrls =
    [
        "https://www.example.com/pricing?utm_source=nurture", "https://www.example.com/", "http://127.0.0.1:7071/thanks.html",
        "https://www.example.com/a%20b?q=%3Cscript%3E",
    ];

    /// <summary>Click URLs a genuine token carries that are not web addresses: the app must refuse to redirect to them.</summary>
    private static readonly string[] SignedHostileClickUrls = ["javascript:alert(1)", "data:text/html,<script>alert(1)</script>", "//evil.example.com/", "file:///etc/passwd", "ftp://evil.example.com/", ""];

    public IEnumerable<HostileRequest> Generate(int count)
    {
        for (var i = 0; i < count; i++)
            yield return Request(i);
    }

    /// <summary>Request <paramref name="index"/> of this seed, the same every time.</summary>
    public HostileRequest Request(int index)
    {
        // Not HashCode.Combine: it is salted per process, and a failure must reproduce in the next one.
        var random = new Random(unchecked((_seed * 1_000_003) + index));
        var endpoint = Endpoints[index % Endpoints.Count];
        var draw = new Draw(random, this, endpoint, index);
        return draw.Make();
    }

    private sealed class Draw(Random random, HostileCorpus corpus, PublicEndpoint endpoint, int index)
    {
        private readonly List<KeyValuePair<string, string>> _headers = [];
        private string _attack = "";
        private bool _mustBeRefused;

        public HostileRequest Make()
        {
            // One request in twelve uses a method the endpoint does not take.
            var method = random.Next(12) == 0
                ? Pick(WrongMethods.Where(m => !endpoint.Methods.Contains(m) && endpoint.KeyedMethods?.Contains(m) != true).ToArray())
                : Pick(endpoint.Methods);
            var path = Path();
            var query = new List<string>();
            byte[]? body = null;
            string? contentType = null;
            AddNoise();

            switch (endpoint.Route)
            {
                case "forms/{formId}":
                case "events":
                    (body, contentType) = CaptureBody(endpoint.Route == "events");
                    if (random.Next(3) == 0)
                        Header(("Origin", Pick(["http://127.0.0.1:7071", "https://evil.example.com", "null", "https://www.example.com", "http://localhost:7071.evil.example.com"])));
                    if (random.Next(6) == 0)
                        Header(("Idempotency-Key", Pick(["", new string('k', 300), "a b", "ok-key-" + index.ToString(CultureInfo.InvariantCulture), Pick(Injection)])));
                    if (random.Next(5) == 0)
                        Header(("Accept", Pick(["text/html", "application/json", "*/*", "text/html, application/json", "image/png"])));
                    if (method == "OPTIONS")
                    {
                        Header(("Access-Control-Request-Method", Pick(["POST", "PUT", "GET", ""])));
                        Header(("Access-Control-Request-Headers", Pick(["content-type", "x-evil", "idempotency-key, content-type", new string('h', 3000)])));
                    }
                    break;
                case "track/open" or "track/click" or "unsubscribe" or "consent/confirm" or "sales/accept" or "sales/reject" or "privacy/your-data" or "privacy/confirm":
                    var token = Token(endpoint.Route);
                    if (token is not null)
                        query.Add("t=" + token);
                    if (method == "POST")
                        (body, contentType) = LinkPostBody(token);
                    break;
                case "crm/events":
                    (body, contentType) = JsonishBody(CrmJson());
                    SignWebhook(body);
                    break;
                case "email/delivery-reports":
                    var secret = Pick([corpus._secrets.DeliveryReportSecret, corpus._secrets.DeliveryReportSecret, "", "wrong-secret-0123456789-0123456789-0123", corpus._secrets.DeliveryReportSecret + "x", Uri.EscapeDataString(Pick(Injection))]);
                    if (secret != corpus._secrets.DeliveryReportSecret)
                    {
                        Attack("wrong-secret");
                        _mustBeRefused = true;
                    }
                    query.Add("secret=" + secret);
                    (body, contentType) = JsonishBody(DeliveryJson());
                    if (method == "OPTIONS")
                        Header(("WebHook-Request-Origin", Pick(["eventgrid.azure.net", "", "evil.example.com", new string('o', 2000), Pick(Xss)])));
                    break;
                case "funnel":
                    query.AddRange(Params(["from", "to", "period"], () => Pick(["2026-11-01", "2026-13-45", "0001-01-01", "9999-12-31", "-1", "day", "week", "month", "year", "1e400", Pick(Injection), Pick(Xss), Long(5000)])));
                    break;
                case "leads":
                    query.AddRange(Params(["stage", "owner", "minScore", "grade", "updatedSince", "sort", "limit", "continuation"], () => Pick(["SQL", "mql", "Customer", "-1", "1e309", "NaN", "2147483648", "newest", "score", "Z", Pick(Injection), Pick(Xss), ContinuationToken(), Long(3000)])));
                    break;
                case "leads/{id}":
                    query.AddRange(Params(["ledger", "history", "ledgerContinuation", "historyContinuation"], () => Pick(["20", "0", "-5", "100000", "1.5", "abc", ContinuationToken(), Pick(Injection)])));
                    break;
                case "leads/{id}/stage":
                    (body, contentType) = JsonishBody(StageJson());
                    break;
                case "workspace/search":
                    (body, contentType) = JsonishBody(Pick([
                        () => Obj(("email", Str(Pick(["ada@example.com", "not-an-email", Pick(Injection) + "@example.com", Pick(Xss), Long(70_000)])))),
                        () => Obj(("email", Pick(["null", "42", "[]", "{}", "true"]))),
                        () => "[\"ada@example.com\"]",
                    ])());
                    break;
                case "workspace/scoring/models" or "workspace/scoring/rescores" when method == "POST":
                    (body, contentType) = JsonishBody(Pick([
                        () => Obj(("model", Pick(["{}", "null", "[]", "{\"version\":\"x\"}", Str(Pick(Xss)), "{\"version\":" + Str(Long(200)) + "}"])),
                            ("reason", Str(Pick([Pick(Xss), Long(5000), "", Pick(Injection)]))), ("rescore", Pick(["true", "1", "\"yes\"", "null"]))),
                        () => Obj(("reason", Str(Pick(Xss))), ("expectedActiveVersion", Str(Pick(Injection)))),
                        () => "[]",
                    ])());
                    break;
                case "workspace/assets/{name}" or "workspace" or "workspace/me" or "workspace/overview" or "workspace/calibration" or
                    "workspace/nurture/results" or "workspace/scoring/models" or "workspace/scoring/rescores/{id}":
                    if (random.Next(3) == 0)
                        query.Add(Pick(["v=1", "name=../../host.json", "x=" + Uri.EscapeDataString(Pick(Xss))]));
                    break;
            }

            if (random.Next(8) == 0)
                query.Add(Pick(["x=" + Long(6000), "t=" + Uri.EscapeDataString(Pick(Injection)), "%ZZ=1", "a=%C3%28", "a=%FF%FE", "a=%00", "a[]=1&a[]=2", "t=1&t=2", "=", "&&&"]));
            if (_attack.Length == 0)
                _attack = "plain";
            var pathAndQuery = "/api/" + path + (query.Count > 0 ? "?" + string.Join("&", query) : "");
            if (method is "GET" or "HEAD" or "TRACE" && random.Next(4) != 0)
            {
                body = null;
                contentType = null;
            }
            return new HostileRequest(index, endpoint, _attack, method, pathAndQuery, _headers, body, contentType) { MustBeRefused = _mustBeRefused };
        }

        /// <summary>HTTP header values are ASCII without line breaks (the client refuses anything else), hostile within that.</summary>
        private void Header((string Name, string Value) header) =>
            _headers.Add(new(header.Name, new string(header.Value.Select(c => c is >= ' ' and <= '~' or '\t' ? c : '?').ToArray())));

        private void Attack(string name) => _attack = _attack.Length == 0 ? name : _attack + "+" + name;

        private string Path()
        {
            switch (endpoint.Route)
            {
                case "forms/{formId}":
                    if (random.Next(4) != 0)
                        return "forms/" + Pick(FormIds);
                    Attack("form-id");
                    return "forms/" + Uri.EscapeDataString(Pick([Pick(Injection), Pick(Xss), Long(300), "NEWSLETTER", "newsletter ", "%00", "..", "newsletter%2F..%2Fdemo-request"]));
                case "leads/{id}" or "leads/{id}/stage":
                    Attack("lead-id");
                    var id = Pick([Pick(Injection), Pick(Xss), Long(2000), "0000000000000000000000000000000000000000000", "lead-" + index.ToString(CultureInfo.InvariantCulture), "%2F", "..", "~bench", "a#b", "\u00e9\u4e2d\ud83d\ude00"]);
                    return "leads/" + Uri.EscapeDataString(id) + (endpoint.Route.EndsWith("/stage", StringComparison.Ordinal) ? "/stage" : "");
                case "workspace/scoring/rescores/{id}":
                    Attack("lead-id");
                    return "workspace/scoring/rescores/" + Uri.EscapeDataString(Pick([Pick(Injection), Pick(Xss), Long(2000), "r-" + index.ToString(CultureInfo.InvariantCulture), "..", "%2F"]));
                case "workspace/assets/{name}":
                    Attack("asset-name");
                    return "workspace/assets/" + Pick([Pick(Traversal), Pick(Traversal), Uri.EscapeDataString(Pick(Xss)), Uri.EscapeDataString(Pick(Injection)), "dashboard.js", Long(3000), "chart.umd.min.js"]);
                default:
                    return endpoint.Route;
            }
        }

        /// <summary>Headers any request may carry: forged sign-ins, long and odd values, forwarded addresses.</summary>
        private void AddNoise()
        {
            if (random.Next(6) == 0)
            {
                Attack("forged-principal");
                Header(("X-MS-CLIENT-PRINCIPAL", Pick([ForgedPrincipal(), "not-base64!!", "", Convert.ToBase64String(Encoding.UTF8.GetBytes(new string('[', 5000))), Long(7000)])));
                Header(("X-MS-CLIENT-PRINCIPAL-ID", Pick(["00000000-0000-0000-0000-000000000001", Pick(Injection), ""])));
                Header(("X-MS-CLIENT-PRINCIPAL-NAME", "admin@evil.example.com"));
                Header(("X-MS-CLIENT-PRINCIPAL-IDP", "aad"));
            }
            if (random.Next(10) == 0)
            {
                Attack("long-header");
                Header((Pick(["User-Agent", "Referer", "X-Custom", "Cookie"]), Long(random.Next(1000, 12_000))));
            }
            if (random.Next(8) == 0)
                Header(("X-Forwarded-For", Pick(["1.2.3.4", "999.999.1.1", "::1, 10.0.0.1", Long(2000), "unknown", "[::ffff:1.2.3.4]:80"])));
            if (random.Next(8) == 0)
                Header(("User-Agent", Pick(["Mozilla/5.0", "", "curl/8", "Microsoft Office Protection", Pick(Xss), "bot\tcrawler"])));
            if (random.Next(10) == 0)
                Header(("Cookie", "lf_vid=" + Pick(["abcdefgh1234", "x", Long(500), Uri.EscapeDataString(Pick(Xss)), "a;b=c"])));
        }

        private string ForgedPrincipal()
        {
            var claims = "{\"auth_typ\":\"aad\",\"claims\":[{\"typ\":\"roles\",\"val\":\"admin\"},{\"typ\":\"http://schemas.microsoft.com/identity/claims/objectidentifier\",\"val\":\"00000000-0000-0000-0000-000000000001\"}],\"name_typ\":\"name\",\"role_typ\":\"roles\"}";
            return Convert.ToBase64String(Encoding.UTF8.GetBytes(claims));
        }

        // ---- capture bodies ----

        private (byte[]? Body, string? ContentType) CaptureBody(bool isEvent)
        {
            switch (random.Next(6))
            {
                case 0:
                    Attack("form-urlencoded");
                    var pairs = new List<string> { "email=" + Uri.EscapeDataString(Email()), "firstName=" + Uri.EscapeDataString(Text()), "consent=" + Pick(["on", "true", "", "1", Pick(Xss)]) };
                    if (random.Next(2) == 0)
                        pairs.Add("website=" + Pick(["", "http://spam.example.com"]));
                    if (random.Next(3) == 0)
                        pairs.Add("email=" + Uri.EscapeDataString(Email()));
                    if (random.Next(4) == 0)
                        pairs.Add(Pick(["%ZZ=1", "a=%C3%28", "x=" + Long(70_000), "role=" + Uri.EscapeDataString(Pick(Injection))]));
                    if (random.Next(3) == 0)
                        pairs.Add("idempotencyKey=" + Uri.EscapeDataString(IdempotencyKey()));
                    return (Encoding.UTF8.GetBytes(string.Join("&", pairs)), Pick(["application/x-www-form-urlencoded", "application/x-www-form-urlencoded; charset=utf-8", "application/x-www-form-urlencoded; charset=ebcdic"]));
                case 1:
                    Attack("multipart");
                    var boundary = Pick(["XyZ", "", new string('b', 100), "a\"b"]);
                    var part = $"--{boundary}\r\nContent-Disposition: form-data; name=\"email\"\r\n\r\n{Email()}\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"../../x.exe\"\r\nContent-Type: application/octet-stream\r\n\r\n{Long(random.Next(10, 3000))}\r\n" + (random.Next(3) == 0 ? "" : $"--{boundary}--\r\n");
                    return (Encoding.UTF8.GetBytes(part), $"multipart/form-data; boundary={boundary}");
                default:
                    var json = isEvent ? EventJson() : FormJson();
                    return JsonishBody(json);
            }
        }

        /// <summary>The body field a plain HTML form or a beacon sends its idempotency key in: valid, empty, too long, spaced, non-ASCII, hostile.</summary>
        private string IdempotencyKey() =>
            Pick(["", "ok-field-key-" + random.Next(1000).ToString(CultureInfo.InvariantCulture), "a b", Long(300), "\u043a\u043b\u044e\u0447", "k\u0000", Pick(Xss), Pick(Injection)]);

        private string FormJson() => Obj(
            ("email", Str(Email())),
            ("firstName", Str(Text())),
            ("lastName", Str(Text())),
            ("company", Str(Text())),
            ("role", Str(Pick(["developer", "executive", Pick(Injection), Long(100)]))),
            ("consent", Pick(["true", "false", "\"yes\"", "1", "null", "{}"])),
            ("visitorId", Str(Pick(["abcdefgh1234", "short", Long(80), Pick(Xss)]))),
            ("pageUrl", Str(Pick(["https://www.example.com/", "javascript:alert(1)", Long(5000)]))),
            ("idempotencyKey", Pick([Str(IdempotencyKey()), "123", "null", "[]"])));

        private string EventJson() => Obj(
            ("type", Str(Pick(["page-view", "content-download", "add-to-cart", "webinar-registration", "form-submission", "rescore", "sales-decision", "email-click", "nurture-sent", Pick(Injection), ""]))),
            ("visitorId", Str(Pick(["abcdefgh1234", "abcdefgh5678", "x", Long(70), Pick(Xss), Pick(Injection)]))),
            ("url", Str(Pick(["https://www.example.com/pricing", "javascript:alert(1)", "file:///etc/passwd", Long(9000), "//x"]))),
            ("contentId", Str(Pick(["whitepaper-lead-scoring", "nope", Pick(Injection), Long(300)]))),
            ("idempotencyKey", Str(IdempotencyKey())),
            (Pick(["email", "leadId", "campaign", "funnelStage", "title", "score", "points"]), Pick(["\"ada@example.com\"", "\"\"", "100000", "1e400", "null"])));

        private string CrmJson() => Obj(
            ("id", Str(Pick(["e1", "", Long(500), Pick(Injection)]))),
            ("type", Str(Pick(["opportunity-created", "deal-won", "deal-lost", "referral", "nope", Pick(Xss)]))),
            ("source", Str(Pick(["hubspot", "salesforce", "dynamics", Long(300)]))),
            ("email", Str(Email())),
            ("reason", Str(Pick([Text(), Long(70_000)]))),
            ("occurredAt", Str(Pick(["2026-11-30T10:00:00Z", "yesterday", "9999-12-31T23:59:59Z", "0001-01-01T00:00:00Z"]))));

        private string DeliveryJson() => "[" + Obj(
            ("id", Str(Pick(["d1", "", Long(400)]))),
            ("eventType", Str(Pick(["Microsoft.Communication.EmailDeliveryReportReceived", "Microsoft.EventGrid.SubscriptionValidationEvent", "x", Pick(Injection)]))),
            ("subject", Str(Pick(["sender/x/message/" + Pick(Injection), "", Long(2000)]))),
            ("eventTime", Str(Pick(["2026-11-30T10:00:00Z", "nope"]))),
            ("data", Pick(["{\"status\":\"Delivered\",\"messageId\":\"" + Pick(Injection).Replace("\"", "", StringComparison.Ordinal) + "\"}", "{\"validationCode\":\"" + Long(50) + "\"}", "null", "[]", "{\"status\":" + Pick(["1e400", "{}", "\"Bounced\""]) + "}"]))) + "]";

        private string StageJson() => Obj(
            ("action", Str(Pick(["accept", "reject", "recycle", "advance", "delete", Pick(Injection), ""]))),
            ("toStage", Str(Pick(["mql", "lead", "opportunity", "customer", "evangelist", "sql", "subscriber", Pick(Xss)]))),
            ("reason", Pick(["\"fit\"", Str(Long(70_000)), "null", "42", Str(Pick(Xss))])));

        /// <summary>A JSON body, then possibly broken: deep, duplicated keys, truncated, invalid UTF-8, control characters, huge, wrong type.</summary>
        private (byte[]? Body, string? ContentType) JsonishBody(string json)
        {
            var contentType = "application/json";
            byte[] bytes;
            switch (random.Next(16))
            {
                case 0:
                    Attack("deep-json");
                    var depth = random.Next(64, 20_000);
                    bytes = Encoding.UTF8.GetBytes(Pick([new string('[', depth) + new string(']', depth), string.Concat(Enumerable.Repeat("{\"a\":", depth)) + "1" + new string('}', depth), new string('[', depth)]));
                    break;
                case 1:
                    Attack("duplicate-keys");
                    bytes = Encoding.UTF8.GetBytes(json.Length > 1 && json[0] == '{'
                        ? "{\"email\":\"a@example.com\",\"email\":\"b@example.com\",\"type\":\"page-view\",\"type\":\"rescore\"," + json[1..]
                        : json);
                    break;
                case 2:
                    Attack("truncated-json");
                    bytes = Encoding.UTF8.GetBytes(json[..random.Next(json.Length)]);
                    break;
                case 3:
                    Attack("invalid-utf8");
                    var raw = Encoding.UTF8.GetBytes(json).ToList();
                    raw.InsertRange(random.Next(raw.Count), Pick<byte[]>([[0xC3, 0x28], [0xFF, 0xFE], [0xED, 0xA0, 0x80], [0xF8, 0x88, 0x80, 0x80, 0x80], [0x80], [0xC0, 0xAF]]));
                    bytes = [.. raw];
                    break;
                case 4:
                    Attack("control-chars");
                    var chars = json.ToCharArray();
                    for (var k = 0; k < 5 && chars.Length > 0; k++)
                        chars[random.Next(chars.Length)] = (char)random.Next(0, 32);
                    bytes = Encoding.UTF8.GetBytes(new string(chars));
                    break;
                case 5:
                    Attack("huge-body");
                    bytes = Encoding.UTF8.GetBytes("{\"email\":\"" + Long(random.Next(64 * 1024, 2 * 1024 * 1024)) + "\"}");
                    break;
                case 6:
                    Attack("wrong-content-type");
                    bytes = Encoding.UTF8.GetBytes(json);
                    contentType = Pick(["text/plain", "application/xml", "application/json; charset=utf-16", "image/png", "application/x-www-form-urlencoded", "multipart/form-data", "", ";;;", "application/json; charset=\"", "application/octet-stream"]);
                    break;
                case 7:
                    Attack("numbers-out-of-range");
                    bytes = Encoding.UTF8.GetBytes(Pick(["1e400", "-1e400", "123456789012345678901234567890", "{\"limit\":1e309,\"minScore\":-0,\"email\":99999999999999999999}", "NaN", "Infinity", "0x10", "-"]));
                    break;
                case 8:
                    Attack("not-an-object");
                    bytes = Encoding.UTF8.GetBytes(Pick(["null", "[]", "\"str\"", "true", "42", "", " ", "\uFEFF{}", "{}", "[null]", "[" + json + "," + json + "]"]));
                    break;
                case 9:
                    Attack("no-body");
                    return (null, Pick<string?>([null, "application/json"]));
                default:
                    bytes = Encoding.UTF8.GetBytes(json);
                    break;
            }
            return (bytes, contentType);
        }

        private (byte[]? Body, string? ContentType) LinkPostBody(string? token)
        {
            switch (random.Next(5))
            {
                case 0:
                    return (null, null);
                case 1:
                    Attack("link-post-json");
                    return (Encoding.UTF8.GetBytes(Obj(("t", Str(token ?? "")), ("reason", Str(Pick(Xss))))), "application/json");
                case 2:
                    Attack("link-post-huge");
                    return (Encoding.UTF8.GetBytes("reason=" + Long(random.Next(70_000, 1_500_000))), "application/x-www-form-urlencoded");
                default:
                    var fields = new List<string> { "t=" + (token ?? ""), "reason=" + Uri.EscapeDataString(Pick([Text(), Pick(Xss), Long(5000)])) };
                    if (random.Next(3) == 0)
                        fields.Add(Pick(["toStage=customer", "toStage=" + Uri.EscapeDataString(Pick(Injection)), "kind=erase", "kind=copy", "choice=" + Uri.EscapeDataString(Pick(Xss)), "%ZZ", "a=%C3%28"]));
                    return (Encoding.UTF8.GetBytes(string.Join("&", fields)), Pick(["application/x-www-form-urlencoded", "text/plain", "multipart/form-data; boundary=", "application/x-www-form-urlencoded; charset=utf-7"]));
            }
        }

        // ---- signed links ----

        private static TrackingKind KindOf(string route) => route switch
        {
            "track/open" => TrackingKind.Open,
            "track/click" => TrackingKind.Click,
            "unsubscribe" => TrackingKind.Unsubscribe,
            "consent/confirm" => TrackingKind.ConfirmConsent,
            "sales/accept" => TrackingKind.Accept,
            "sales/reject" => TrackingKind.Reject,
            "privacy/your-data" => TrackingKind.DataRequest,
            _ => TrackingKind.DataRequestConfirm,
        };

        /// <summary>A token for the link endpoint: genuine, or forged in one of the ways an attacker would try. Escaped for a query.</summary>
        private string? Token(string route)
        {
            var kind = KindOf(route);
            var sentAt = corpus._now.AddMinutes(-random.Next(5, 600));
            var claims = new TrackingClaims
            {
                Kind = kind,
                LeadId = Pick(["lead" + index.ToString(CultureInfo.InvariantCulture), Pick(Injection), Pick(Xss), Long(600)]),
                MessageId = Pick(["m-" + index.ToString(CultureInfo.InvariantCulture), Pick(Injection)]),
                Programme = "trio",
                Step = "first",
                SentAtUnixSeconds = sentAt.ToUnixTimeSeconds(),
                Url = kind == TrackingKind.Click ? (random.Next(5) == 0 ? Pick(SignedHostileClickUrls) : Pick(SignedClickUrls.ToArray())) : null,
                Actor = kind is TrackingKind.Accept or TrackingKind.Reject ? Pick(["rep-1", Pick(Injection)]) : null,
                SqlAtTicks = kind is TrackingKind.Accept or TrackingKind.Reject ? sentAt.AddMinutes(-1).UtcTicks : null,
            };
            switch (random.Next(12))
            {
                case 0 or 1 or 2:
                    Attack("genuine-token");
                    return Uri.EscapeDataString(corpus._signer.Sign(claims));
                case 3:
                    Attack("bit-flipped-token");
                    _mustBeRefused = true;
                    return Uri.EscapeDataString(BitFlip(corpus._signer.Sign(claims)));
                case 4:
                    Attack("expired-token");
                    _mustBeRefused = kind is not (TrackingKind.Open or TrackingKind.Click);
                    return Uri.EscapeDataString(corpus._signer.Sign(claims with { SentAtUnixSeconds = corpus._now.AddDays(-4000).ToUnixTimeSeconds(), SqlAtTicks = claims.SqlAtTicks is null ? null : corpus._now.AddDays(-400).UtcTicks }));
                case 5:
                    Attack("wrong-kind-token");
                    _mustBeRefused = true;
                    var other = Enum.GetValues<TrackingKind>().Where(k => k != kind).ToArray();
                    return Uri.EscapeDataString(corpus._signer.Sign(claims with { Kind = Pick(other), Url = "https://evil.example.com/" }));
                case 6:
                    Attack("foreign-key-token");
                    _mustBeRefused = true;
                    return Uri.EscapeDataString(corpus._foreignSigner.Sign(claims with { Url = "https://evil.example.com/" }));
                case 7:
                    Attack("edited-payload-token");
                    _mustBeRefused = true;
                    var parts = corpus._signer.Sign(claims).Split('.');
                    var edited = Convert.ToBase64String(JsonSerializer.SerializeToUtf8Bytes(new { k = kind.ToString().ToLowerInvariant(), l = "victim", m = "m", t = claims.SentAtUnixSeconds, u = "https://evil.example.com/" }))
                        .TrimEnd('=').Replace('+', '-').Replace('/', '_');
                    return Uri.EscapeDataString(parts[0] + "." + edited + "." + parts[2]);
                case 8:
                    Attack("garbage-token");
                    _mustBeRefused = true;
                    return Pick([Uri.EscapeDataString(Pick(Injection)), "", "...", "k1..", "k1.e30.", Long(5000), "%C3%28", "k1." + Long(4100) + ".x", Uri.EscapeDataString(Pick(Xss))]);
                case 9:
                    Attack("no-token");
                    _mustBeRefused = true;
                    return null;
                case 10:
                    Attack("unkeyed-forged-token");
                    _mustBeRefused = true;
                    var payload = corpus._signer.Sign(claims).Split('.')[1];
                    return Uri.EscapeDataString(payload + "." + new string('A', 43));
                default:
                    Attack("genuine-token-with-hostile-claims");
                    return Uri.EscapeDataString(corpus._signer.Sign(claims with { LeadId = Pick([Pick(Injection), Long(3000), "x"]), MessageId = Pick(Xss), Programme = Long(400), Step = Pick(Injection) }));
            }
        }

        /// <summary>One flipped bit anywhere in the token, kept only when the result no longer verifies (base64 padding bits may not count).</summary>
        private string BitFlip(string token)
        {
            for (var attempt = 0; attempt < 20; attempt++)
            {
                var chars = token.ToCharArray();
                var at = random.Next(chars.Length);
                chars[at] = (char)(chars[at] ^ (1 << random.Next(7)));
                var flipped = new string(chars);
                if (corpus._signer.Verify(flipped) is null)
                    return flipped;
            }
            return token + "x";
        }

        // ---- webhooks ----

        private void SignWebhook(byte[]? body)
        {
            var bytes = body ?? [];
            var now = corpus._now;
            switch (random.Next(6))
            {
                case 0 or 1:
                    // Signed for real: the hostile body reaches the parser.
                    Attack("signed");
                    Header((WebhookSignature.HeaderName, WebhookSignature.Sign(Encoding.UTF8.GetBytes(corpus._secrets.CrmWebhookSecret), now, bytes)));
                    break;
                case 2:
                    Attack("stale-signature");
                    _mustBeRefused = true;
                    Header((WebhookSignature.HeaderName, WebhookSignature.Sign(Encoding.UTF8.GetBytes(corpus._secrets.CrmWebhookSecret), now.AddHours(-2), bytes)));
                    break;
                case 3:
                    Attack("wrong-secret-signature");
                    _mustBeRefused = true;
                    Header((WebhookSignature.HeaderName, WebhookSignature.Sign("not-the-secret-0123456789-0123456789-abcdef"u8, now, bytes)));
                    break;
                case 4:
                    Attack("garbage-signature");
                    _mustBeRefused = true;
                    Header((WebhookSignature.HeaderName, Pick(["", "t=1,v1=00", "v1=" + new string('a', 64), "t=" + Long(30) + ",v1=x", "t=99999999999999999999,v1=ab", Long(8000), "t=,v1=,t=,v1="])));
                    break;
                default:
                    Attack("unsigned");
                    _mustBeRefused = true;
                    break;
            }
        }

        // ---- small things ----

        private IEnumerable<string> Params(string[] names, Func<string> value)
        {
            foreach (var name in names)
            {
                if (random.Next(3) == 0)
                    yield return name + "=" + Uri.EscapeDataString(value());
            }
        }

        private string ContinuationToken() => Pick(["", "abc", "eyJhIjoiYiJ9", Convert.ToBase64String(Encoding.UTF8.GetBytes("{\"pk\":\"' or 1 eq 1\",\"rk\":\"x\"}")), Long(5000), "%%%"]);

        private string Email() => Pick(["ada@example.com", "ADA@EXAMPLE.COM", "", "not-an-email", "a@b", Long(300) + "@example.com", "\"<script>\"@example.com", "ada@example.com\r\nBcc: x@evil.example.com", Pick(Injection) + "@example.com", "ada+" + index.ToString(CultureInfo.InvariantCulture) + "@example.com", "\u0430da@example.com"]);

        private string Text() => Pick(["Ada", "", Pick(Xss), Pick(Injection), Long(random.Next(100, 5000)), "\u202Egnp.exe", "\u0000nul", "line\r\nbreak", "\ud800"]);

        private string Long(int length) => new(Pick(['a', 'Z', '%', '\u00e9']), length);

        private static string Str(string value) => JsonSerializer.Serialize(value);

        private string Obj(params (string Key, string Json)[] members) =>
            "{" + string.Join(",", members.Where(_ => random.Next(6) != 0).Select(m => Str(m.Key) + ":" + m.Json)) + "}";

        private T Pick<T>(T[] items) => items[random.Next(items.Length)];
    }
}
