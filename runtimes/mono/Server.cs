// membench reference pattern server for Mono (.NET Framework profile, SGen collector).
//
//   mcs -out:Server.exe -r:System.Net.Http.dll -r:Mono.Posix.dll Server.cs
//   mono Server.exe --addr 127.0.0.1:0 [--leak-cap BYTES] [--max-size BYTES]
//                   [--cache-ttl-ms MS] [--client-leak-cap N]
//
// Serves the patterns of membench's Rust server (src/server/*.rs) with the same paths,
// status codes and JSON error bodies, written in the ASP.NET Core memory article's own
// idioms (new string('x', 10 * 1024), new byte[size], ArrayPool<byte>.Shared, HttpClient
// per request vs shared), and GET /api/diagnostics in the contract of
// docs/diagnostics-contract.md (version 2) with MEASURED collections:
// GC.CollectionCount(0) and GC.CollectionCount(1) (SGen has two generations: the nursery
// and the major heap) and GC.GetTotalMemory(false).
//
// Mono facts that matter when reading the numbers:
// * SGen puts every object above 8,000 bytes (header included: a byte[] has a 32-byte
//   header on 64-bit, so byte[7969] and up) in its large object space, which only a MAJOR
//   collection sweeps. .NET's CoreCLR boundary (85,000 bytes) does not exist here.
// * The article's new string('x', 10 * 1024) is 10 Ki UTF-16 chars: 20 KiB, so on Mono
//   /api/bigstring is a large-object allocation (and so is its 10 KiB UTF-8 body).
// * Mono has no API for GC pause time: pause_seconds_total is null.
// * HttpClient in this profile goes through HttpWebRequest, whose connections are pooled
//   per host by ServicePointManager for the whole process; so /api/httpclient1 (a client
//   per request) reuses the same pooled connections as /api/httpclient2 and does not pile
//   up TIME_WAIT sockets as it does on .NET Core. /api/clientleak therefore uses a
//   TcpClient per request (one real connection each), never closed.
using System;
using System.Buffers;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Net.Sockets;
using System.Reflection;
using System.Text;
using System.Text.RegularExpressions;
using System.Threading;
using System.Threading.Tasks;
using Mono.Unix;
using Mono.Unix.Native;

class HttpError : Exception
{
    public readonly int Status;
    public readonly string Kind;
    public HttpError(int status, string kind, string message) : base(message) { Status = status; Kind = kind; }
}

static class Server
{
    static long leakCap = 256L << 20, maxSize = 64L << 20, cacheTtlMs = 500;
    static int clientLeakCap = 2000;
    static readonly DateTime started = DateTime.UtcNow;
    const string LeakCapReached = "leak cap reached";
    const int Page = 4096;
    static string selfAddr;

    // ---- counters ----------------------------------------------------------------------
    static readonly Dictionary<string, long> requests = new Dictionary<string, long>();
    static readonly Dictionary<string, long> errors = new Dictionary<string, long>();

    static void Count(Dictionary<string, long> map, string key)
    {
        lock (map) { long n; map.TryGetValue(key, out n); map[key] = n + 1; }
    }

    static SortedDictionary<string, object> Snapshot(Dictionary<string, long> map)
    {
        lock (map) return new SortedDictionary<string, object>(map.ToDictionary(kv => kv.Key, kv => (object)kv.Value));
    }

    static HttpError BadRequest(string message) { return new HttpError(400, "bad request", message); }

    // ---- sizes -------------------------------------------------------------------------
    static int ParseSize(string text)
    {
        string expected = "expected a whole number of bytes from 1 to " + maxSize + " (set with --max-size)";
        string quoted = Quote(text);
        if (Regex.IsMatch(text, "^-[0-9]+$")) throw BadRequest("size " + quoted + " is negative; " + expected);
        if (!Regex.IsMatch(text, "^[0-9]+$")) throw BadRequest("size " + quoted + " is not a number; " + expected);
        long size;
        if (!long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out size)) size = long.MaxValue;
        if (size == 0) throw BadRequest("size " + quoted + " is zero; " + expected);
        if (size > maxSize) throw BadRequest("size " + quoted + " is above the limit; " + expected);
        return (int)size;
    }

    // ---- strings, caches and the leak cap -----------------------------------------------
    const int BigStringChars = 10 * 1024;
    const long BigStringBytes = 2 * BigStringChars; // UTF-16

    static readonly object leakLock = new object();
    static List<string> staticStrings = new List<string>();
    static long staticBytes, unboundedBytes, nextKey;
    // A dictionary, not MemoryCache: System.Runtime.Caching is not in this profile's
    // default install. The pattern is the same: entries with no expiry, never removed.
    static Dictionary<long, string> unbounded = new Dictionary<long, string>();
    static Dictionary<long, string> expiring = new Dictionary<long, string>();
    static Queue<KeyValuePair<long, DateTime>> expiries = new Queue<KeyValuePair<long, DateTime>>();

    static void CheckLeakCap(string endpoint, long adding)
    {
        long held = staticBytes + unboundedBytes;
        if (held + adding <= leakCap) return;
        throw new HttpError(507, LeakCapReached, "leak cap reached: /api/staticstring and /api/cache/unbounded hold "
            + held + " bytes and " + endpoint + " would add " + adding + " bytes, past --leak-cap " + leakCap
            + " bytes; POST /api/reset drops what they hold (or restart with a larger --leak-cap)");
    }

    static void SweepExpiringLocked()
    {
        var now = DateTime.UtcNow;
        while (expiries.Count > 0 && expiries.Peek().Value <= now) expiring.Remove(expiries.Dequeue().Key);
    }

    // ---- buffers -----------------------------------------------------------------------
    [ThreadStatic] static Random random;
    static Random Rng { get { return random ?? (random = new Random(Guid.NewGuid().GetHashCode())); } }
    internal static volatile int sink; // read back by nobody: keeps the buffer from being optimised away

    static string Touched(int size)
    {
        var buffer = new byte[size];
        for (int i = 0; i < size; i += Page) buffer[i] = 1;
        sink = buffer[size - 1];
        return buffer.Length.ToString(CultureInfo.InvariantCulture);
    }

    // ---- clients -----------------------------------------------------------------------
    static readonly HttpClient sharedClient = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
    static readonly List<TcpClient> leakedClients = new List<TcpClient>();

    static Uri CheckLoopbackUrl(string text)
    {
        const string accepted = "only http:// URLs to a loopback host are accepted (127.0.0.0/8, [::1] or localhost), "
            + "e.g. http://127.0.0.1:5000/api/ping";
        Uri uri;
        string why = null;
        if (!Uri.TryCreate(text, UriKind.Absolute, out uri)) why = "it is not a valid absolute URL";
        else if (uri.Scheme != "http") why = "the scheme is \"" + uri.Scheme + "\", not http";
        else if (uri.UserInfo.Length > 0) why = "user information (`user@`) is not accepted";
        else
        {
            string host = uri.Host == "localhost" ? "127.0.0.1" : uri.Host;
            IPAddress ip;
            if (!IPAddress.TryParse(host.Trim('[', ']'), out ip) || !IPAddress.IsLoopback(ip)) why = "the host is not loopback";
            else uri = new UriBuilder(uri) { Host = host }.Uri; // connect to what was checked
        }
        if (why != null) throw BadRequest("url " + Quote(text) + " is not accepted: " + why + "; " + accepted);
        return uri;
    }

    static HttpError UpstreamError(string url, Exception e)
    {
        var text = e.ToString();
        string kind = text.Contains("refused") ? "connection refused"
            : text.Contains("Cannot assign requested address") ? "address not available"
            : e is TaskCanceledException || text.Contains("imeout") ? "timeout"
            : text.Contains("Too many open files") ? "too many open files" : "upstream error";
        return new HttpError(502, kind, "the upstream " + url + " failed: " + kind + " (" + e.GetBaseException().Message + ")");
    }

    static object HttpClientEndpoint(int which, HttpListenerRequest request)
    {
        string shown = request.QueryString["url"] ?? "http://" + selfAddr + "/api/ping";
        var target = CheckLoopbackUrl(shown);
        // The article's httpclient1: `using (var client = new HttpClient())` per request.
        var client = which == 1 ? new HttpClient { Timeout = TimeSpan.FromSeconds(10) } : sharedClient;
        try
        {
            var response = client.GetAsync(target).Result;
            var body = response.Content.ReadAsByteArrayAsync().Result;
            return new SortedDictionary<string, object> {
                { "client", which == 1 ? "new per request" : "shared" }, { "url", shown },
                { "connected_to", target.Host + ":" + target.Port }, { "upstream_status", (int)response.StatusCode },
                { "upstream_body_bytes", body.Length } };
        }
        catch (Exception e) when (!(e is HttpError)) { throw UpstreamError(shown, e); }
        finally { if (which == 1) client.Dispose(); }
    }

    static object ClientLeak()
    {
        lock (leakedClients)
            if (leakedClients.Count >= clientLeakCap)
                throw new HttpError(507, LeakCapReached, "clientleak holds " + clientLeakCap
                    + " connections, its cap (--client-leak-cap " + clientLeakCap + "); POST /api/reset closes them");
        string url = "http://" + selfAddr + "/api/ping";
        var self = new Uri(url);
        var client = new TcpClient();
        int status;
        try
        {
            client.Connect(self.Host, self.Port);
            client.ReceiveTimeout = 10000;
            var stream = client.GetStream();
            var request = Encoding.ASCII.GetBytes("GET /api/ping HTTP/1.1\r\nHost: " + selfAddr + "\r\n\r\n");
            stream.Write(request, 0, request.Length);
            var buffer = new byte[4096];
            int n = 0, read;
            // Read the whole small answer ("pong"), leaving the connection idle and open.
            while ((read = stream.Read(buffer, n, buffer.Length - n)) > 0)
            {
                n += read;
                var text = Encoding.ASCII.GetString(buffer, 0, n);
                int end = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
                var length = Regex.Match(text, @"(?i)content-length:\s*(\d+)");
                if (end >= 0 && length.Success && n >= end + 4 + int.Parse(length.Groups[1].Value)) break;
            }
            status = int.Parse(Encoding.ASCII.GetString(buffer, 9, 3), CultureInfo.InvariantCulture);
        }
        catch (Exception e) { client.Close(); throw UpstreamError(url, e); }
        int held;
        lock (leakedClients) { leakedClients.Add(client); held = leakedClients.Count; }
        return new SortedDictionary<string, object> {
            { "connections_held", held }, { "cap", clientLeakCap }, { "connection_heap_bytes", null },
            { "held_heap_bytes", null }, { "upstream_status", status } };
    }

    // ---- diagnostics -------------------------------------------------------------------
    static object Held(long items, long bytes)
    {
        return new SortedDictionary<string, object> { { "bytes", bytes }, { "items", items } };
    }

    static SortedDictionary<string, object> Leaks()
    {
        var leaks = new SortedDictionary<string, object>();
        lock (leakLock)
        {
            SweepExpiringLocked();
            leaks["staticstring"] = Held(staticStrings.Count, staticBytes);
            leaks["cache_unbounded"] = Held(unbounded.Count, unboundedBytes);
            leaks["cache_expiring"] = Held(expiring.Count, expiring.Count * (BigStringBytes + 8));
        }
        lock (leakedClients) leaks["clientleak"] = Held(leakedClients.Count, 0);
        leaks["fileprovider"] = Held(0, 0);
        // pooled_buffers is left out: ArrayPool<byte>.Shared does not say what it holds.
        return leaks;
    }

    static object OsThreads()
    {
        try
        {
            foreach (var line in File.ReadAllLines("/proc/self/status"))
                if (line.StartsWith("Threads:", StringComparison.Ordinal)) return long.Parse(line.Substring(8).Trim());
        }
        catch (IOException) { }
        return null;
    }

    static string MonoVersion()
    {
        var type = Type.GetType("Mono.Runtime");
        var display = type == null ? null : type.GetMethod("GetDisplayName", BindingFlags.NonPublic | BindingFlags.Static);
        return display == null ? Environment.Version.ToString() : (string)display.Invoke(null, null);
    }

    static object Diagnostics()
    {
        var reqs = Snapshot(requests);
        var flags = new List<object>();
        foreach (var name in new[] { "MONO_GC_PARAMS", "MONO_GC_DEBUG", "MONO_ENV_OPTIONS" })
        {
            var value = Environment.GetEnvironmentVariable(name);
            if (value != null) flags.Add(name + "=" + value);
        }
        var collections = new SortedDictionary<string, object>();
        long total = 0;
        for (int gen = 0; gen <= GC.MaxGeneration; gen++)
        {
            long n = GC.CollectionCount(gen);
            collections["gen" + gen] = n;
        }
        total = GC.CollectionCount(0);
        return new SortedDictionary<string, object> {
            { "contract_version", 2 },
            { "pid", System.Diagnostics.Process.GetCurrentProcess().Id },
            { "uptime_s", (DateTime.UtcNow - started).TotalSeconds },
            { "requests", reqs },
            { "requests_total", reqs.Values.Sum(v => (long)v) },
            { "errors", Snapshot(errors) },
            { "leaks", Leaks() },
            { "runtime", new SortedDictionary<string, object> {
                { "name", "mono" },
                { "version", MonoVersion() },
                { "collector", "SGen (generational: nursery + major heap, large object space)" },
                { "flags", flags },
                { "large_object_threshold_bytes", 8000 },
                { "large_object_rule", "SGen: objects above 8000 bytes, header included (byte[7969] and up), "
                    + "go to the large object space, swept only by major collections" } } },
            { "measured_gc", new SortedDictionary<string, object> {
                { "source", "GC.CollectionCount(n), GC.GetTotalMemory(false)" },
                // SGen: gen0 = nursery (minor) collections, gen1 = major collections, each
                // counted in gen0 too, as .NET counts GC.CollectionCount(0).
                { "collections", collections },
                { "collections_total", total },
                { "pause_seconds_total", null },
                { "heap_in_use_bytes", GC.GetTotalMemory(false) },
                { "heap_committed_bytes", null },
                { "large_object_space_bytes", null },
                { "allocated_bytes_total", null },
                { "threads", OsThreads() } } },
        };
    }

    static object Reset()
    {
        var dropped = Leaks();
        lock (leakLock)
        {
            staticStrings = new List<string>(); staticBytes = 0;
            unbounded = new Dictionary<long, string>(); unboundedBytes = 0;
            expiring = new Dictionary<long, string>(); expiries = new Queue<KeyValuePair<long, DateTime>>();
        }
        List<TcpClient> clients;
        lock (leakedClients) { clients = leakedClients.ToList(); leakedClients.Clear(); }
        foreach (var c in clients) c.Close();
        long total = 0;
        foreach (var k in new[] { "staticstring", "cache_unbounded", "clientleak" })
            total += (long)((SortedDictionary<string, object>)dropped[k])["bytes"];
        return new SortedDictionary<string, object> { { "dropped", dropped }, { "dropped_leak_bytes", total } };
    }

    // ---- JSON --------------------------------------------------------------------------
    static string Quote(string s)
    {
        var b = new StringBuilder("\"");
        foreach (char c in s)
        {
            if (c == '"' || c == '\\') b.Append('\\').Append(c);
            else if (c < 0x20) b.AppendFormat("\\u{0:x4}", (int)c);
            else b.Append(c);
        }
        return b.Append('"').ToString();
    }

    static void Json(StringBuilder b, object v)
    {
        if (v == null) b.Append("null");
        else if (v is string) b.Append(Quote((string)v));
        else if (v is bool) b.Append((bool)v ? "true" : "false");
        else if (v is double) b.Append(((double)v).ToString("R", CultureInfo.InvariantCulture));
        else if (v is IConvertible) b.Append(Convert.ToString(v, CultureInfo.InvariantCulture));
        else if (v is System.Collections.IDictionary)
        {
            b.Append('{');
            bool first = true;
            foreach (System.Collections.DictionaryEntry e in (System.Collections.IDictionary)v)
            {
                if (!first) b.Append(',');
                first = false;
                b.Append(Quote(e.Key.ToString())).Append(':');
                Json(b, e.Value);
            }
            b.Append('}');
        }
        else if (v is System.Collections.IEnumerable)
        {
            b.Append('[');
            bool first = true;
            foreach (var o in (System.Collections.IEnumerable)v) { if (!first) b.Append(','); first = false; Json(b, o); }
            b.Append(']');
        }
        else b.Append(Quote(v.ToString()));
    }

    // ---- routing -----------------------------------------------------------------------
    static readonly string[] Routes = { "/api/ping", "/api/bigstring", "/api/staticstring", "/api/loh",
        "/api/loh/{size}", "/api/array/{size}", "/api/pooledarray/{size}", "/api/cache/unbounded",
        "/api/cache/expiring", "/api/httpclient1", "/api/httpclient2", "/api/clientleak", "/api/diagnostics",
        "/api/reset" };
    static readonly Regex Sized = new Regex("^(/api/(?:loh|array|pooledarray)/)([^/]*)$", RegexOptions.Compiled);

    static void Send(HttpListenerResponse response, int status, string type, byte[] body, int length)
    {
        response.StatusCode = status;
        response.ContentType = type;
        response.ContentLength64 = length;
        response.OutputStream.Write(body, 0, length);
    }

    static void SendText(HttpListenerResponse response, string text)
    {
        var body = Encoding.UTF8.GetBytes(text);
        Send(response, 200, "text/plain; charset=utf-8", body, body.Length);
    }

    static void SendJson(HttpListenerResponse response, int status, object v)
    {
        var b = new StringBuilder();
        Json(b, v);
        var body = Encoding.UTF8.GetBytes(b.ToString());
        Send(response, status, "application/json", body, body.Length);
    }

    static void Fail(HttpListenerResponse response, HttpError e)
    {
        Count(errors, e.Kind);
        SendJson(response, e.Status, new SortedDictionary<string, object> { { "error", e.Message }, { "kind", e.Kind } });
    }

    static void Handle(HttpListenerContext context)
    {
        var request = context.Request;
        var response = context.Response;
        try
        {
            string raw = request.RawUrl;
            int q = raw.IndexOf('?');
            string path = Uri.UnescapeDataString(q < 0 ? raw : raw.Substring(0, q));
            string template = path, arg = null;
            var m = Sized.Match(path);
            if (m.Success) { template = m.Groups[1].Value + "{size}"; arg = m.Groups[2].Value; }
            if (Array.IndexOf(Routes, template) < 0)
            {
                Count(requests, "unmatched");
                Fail(response, new HttpError(404, "not found", "no endpoint at " + request.HttpMethod + " " + Quote(path)
                    + "; the endpoints are " + string.Join(", ", Routes) + " (sizes in bytes, e.g. /api/loh/85000)"));
                return;
            }
            Count(requests, template);
            string method = template == "/api/reset" ? "POST" : "GET";
            if (request.HttpMethod != method)
            {
                response.AddHeader("Allow", method);
                Fail(response, new HttpError(405, "method not allowed", request.HttpMethod + " is not allowed on "
                    + template + "; the pattern endpoints answer GET, reset answers POST"));
                return;
            }
            try { Route(request, response, template, arg); }
            catch (HttpError e) { Fail(response, e); }
            catch (OutOfMemoryException e) { Fail(response, new HttpError(503, "out of memory", e.Message)); }
        }
        catch (Exception e)
        {
            try { Fail(response, new HttpError(500, "internal", e.ToString())); } catch (Exception) { }
        }
        finally
        {
            try { response.Close(); } catch (Exception) { }
        }
    }

    static void Route(HttpListenerRequest request, HttpListenerResponse response, string template, string arg)
    {
        switch (template)
        {
            case "/api/ping": SendText(response, "pong"); break;
            case "/api/bigstring": SendText(response, new string('x', 10 * 1024)); break;
            case "/api/staticstring":
                {
                    string s;
                    lock (leakLock)
                    {
                        CheckLeakCap(template, BigStringBytes);
                        s = new string('x', 10 * 1024);
                        staticStrings.Add(s);
                        staticBytes += BigStringBytes;
                    }
                    SendText(response, s);
                    break;
                }
            case "/api/loh": SendText(response, Touched(85000)); break;
            case "/api/loh/{size}": SendText(response, Touched(ParseSize(arg))); break;
            case "/api/array/{size}":
                {
                    var array = new byte[ParseSize(arg)];
                    Rng.NextBytes(array);
                    Send(response, 200, "application/octet-stream", array, array.Length);
                    break;
                }
            case "/api/pooledarray/{size}":
                {
                    int size = ParseSize(arg);
                    // ArrayPool<byte>.Shared (in this profile's mscorlib): pools arrays up to
                    // 1 MiB; larger rents are new arrays every time.
                    var array = ArrayPool<byte>.Shared.Rent(size);
                    try
                    {
                        for (int i = 0; i < size; i += 8)
                        {
                            long v = (long)(Rng.NextDouble() * long.MaxValue) ^ ((long)Rng.Next() << 32);
                            for (int j = 0; j < 8 && i + j < size; j++, v >>= 8) array[i + j] = (byte)v;
                        }
                        Send(response, 200, "application/octet-stream", array, size);
                    }
                    finally { ArrayPool<byte>.Shared.Return(array); } // the RegisterForDispose of the article
                    break;
                }
            case "/api/cache/unbounded":
                {
                    long key;
                    lock (leakLock)
                    {
                        CheckLeakCap(template, BigStringBytes + 8);
                        key = ++nextKey;
                        unbounded[key] = new string('x', 10 * 1024);
                        unboundedBytes += BigStringBytes + 8;
                    }
                    SendText(response, key.ToString(CultureInfo.InvariantCulture));
                    break;
                }
            case "/api/cache/expiring":
                {
                    long key;
                    lock (leakLock)
                    {
                        SweepExpiringLocked();
                        key = ++nextKey;
                        expiring[key] = new string('x', 10 * 1024);
                        expiries.Enqueue(new KeyValuePair<long, DateTime>(key, DateTime.UtcNow.AddMilliseconds(cacheTtlMs)));
                    }
                    SendText(response, key.ToString(CultureInfo.InvariantCulture));
                    break;
                }
            case "/api/httpclient1": SendJson(response, 200, HttpClientEndpoint(1, request)); break;
            case "/api/httpclient2": SendJson(response, 200, HttpClientEndpoint(2, request)); break;
            case "/api/clientleak": SendJson(response, 200, ClientLeak()); break;
            case "/api/diagnostics": SendJson(response, 200, Diagnostics()); break;
            case "/api/reset": SendJson(response, 200, Reset()); break;
        }
    }

    static int Main(string[] args)
    {
        string addr = "127.0.0.1:0";
        for (int i = 0; i < args.Length; i++)
        {
            string flag = args[i], value = i + 1 < args.Length ? args[i + 1] : "";
            int eq = flag.IndexOf('=');
            if (eq > 0) { value = flag.Substring(eq + 1); flag = flag.Substring(0, eq); } else i++;
            switch (flag)
            {
                case "--addr": addr = value; break;
                case "--leak-cap": leakCap = long.Parse(value); break;
                case "--max-size": maxSize = long.Parse(value); break;
                case "--cache-ttl-ms": cacheTtlMs = long.Parse(value); break;
                case "--client-leak-cap": clientLeakCap = int.Parse(value); break;
                default:
                    Console.Error.WriteLine("unknown argument " + flag + "; usage: mono Server.exe --addr 127.0.0.1:0");
                    return 2;
            }
        }
        int colon = addr.LastIndexOf(':');
        string host = addr.Substring(0, colon).Trim('[', ']');
        int port = int.Parse(addr.Substring(colon + 1));
        if (port == 0)
        {
            // HttpListener needs a port in its prefix: ask the OS for a free one first
            // (another process could take it in between; then the start below fails).
            var probe = new TcpListener(IPAddress.Parse(host), 0);
            probe.Start();
            port = ((IPEndPoint)probe.LocalEndpoint).Port;
            probe.Stop();
        }
        selfAddr = (host.Contains(":") ? "[" + host + "]" : host) + ":" + port;
        ServicePointManager.DefaultConnectionLimit = 1024; // the shared client is not throttled to 2
        ThreadPool.SetMinThreads(64, 64); // handlers that call this server must not wait for the pool to grow
        var listener = new HttpListener();
        listener.Prefixes.Add("http://" + selfAddr + "/");
        try { listener.Start(); }
        catch (Exception e) { Console.Error.WriteLine("cannot listen on " + addr + ": " + e.Message); return 1; }
        Console.Out.WriteLine("listening on http://" + selfAddr);
        Console.Out.Flush();

        var stop = new Thread(() =>
        {
            UnixSignal.WaitAny(new[] { new UnixSignal(Signum.SIGTERM), new UnixSignal(Signum.SIGINT) });
            listener.Close();
            lock (leakedClients) foreach (var c in leakedClients) c.Close();
            Environment.Exit(0);
        }) { IsBackground = true };
        stop.Start();

        while (listener.IsListening)
        {
            HttpListenerContext context;
            try { context = listener.GetContext(); }
            catch (Exception) { break; }
            ThreadPool.QueueUserWorkItem(_ => Handle(context));
        }
        return 0;
    }
}
