// membench reference pattern server for the JVM (com.sun.net.httpserver, JDK only).
//
//   java [-XX:G1HeapRegionSize=1m -Xmx512m] Server.java --addr 127.0.0.1:0
//        [--leak-cap BYTES] [--max-size BYTES] [--cache-ttl-ms MS] [--client-leak-cap N]
//
// Serves the patterns of membench's Rust server (src/server/*.rs) with the same paths,
// status codes and JSON error bodies, and GET /api/diagnostics in the contract of
// docs/diagnostics-contract.md (version 2) with MEASURED collections from the
// GarbageCollectorMXBeans (count and accumulated time per collector), heap and pools from
// the MemoryPoolMXBeans.
//
// JVM facts that matter when reading the numbers:
// * G1 (the default) splits the heap into regions (1-32 MiB; -XX:G1HeapRegionSize). An
//   object larger than half a region is "humongous": allocated straight into contiguous
//   old-generation regions, which costs young collections (and space) much earlier. A
//   byte[n] takes n + 16 bytes, so with 1 MiB regions byte[524272] fits and byte[524289]
//   does not. The MXBeans have no humongous pool: such objects count in "G1 Old Gen".
// * A String of 10 Ki 'x' is 10 KiB (compact Latin-1 strings).
// * /api/clientleak keeps a java.net.http.HttpClient per request: each has its own
//   selector-manager thread and connection pool, so threads grow with every request (the
//   Go gRPC post-mortem in Java). Java 17's HttpClient has no close(): after POST
//   /api/reset the clients are only unreachable, and their threads end once a collection
//   has noticed.
import com.sun.management.HotSpotDiagnosticMXBean;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.lang.management.MemoryUsage;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

public class Server {
    static long leakCap = 256L << 20, maxSize = 64L << 20, cacheTtlMs = 500;
    static int clientLeakCap = 2000;
    static final long STARTED = System.nanoTime();
    static final String LEAK_CAP_REACHED = "leak cap reached";
    static final int BIG_STRING_CHARS = 10 * 1024, PAGE = 4096;
    static String selfAddr;

    // ---- counters and errors ----------------------------------------------------------
    static final Map<String, AtomicLong> requests = new ConcurrentHashMap<>();
    static final Map<String, AtomicLong> errors = new ConcurrentHashMap<>();

    static void count(Map<String, AtomicLong> map, String key) {
        map.computeIfAbsent(key, k -> new AtomicLong()).incrementAndGet();
    }

    static Map<String, Long> snapshot(Map<String, AtomicLong> map) {
        Map<String, Long> out = new TreeMap<>();
        map.forEach((k, v) -> out.put(k, v.get()));
        return out;
    }

    static final class HttpError extends Exception {
        final int status;
        final String kind;

        HttpError(int status, String kind, String message) {
            super(message);
            this.status = status;
            this.kind = kind;
        }
    }

    static HttpError badRequest(String message) {
        return new HttpError(400, "bad request", message);
    }

    // ---- sizes ------------------------------------------------------------------------
    static int parseSize(String text) throws HttpError {
        String expected = "expected a whole number of bytes from 1 to " + maxSize + " (set with --max-size)";
        String quoted = quote(text);
        if (text.matches("-[0-9]+")) throw badRequest("size " + quoted + " is negative; " + expected);
        if (!text.matches("[0-9]+")) throw badRequest("size " + quoted + " is not a number; " + expected);
        long size;
        try {
            size = Long.parseLong(text);
        } catch (NumberFormatException e) {
            size = Long.MAX_VALUE; // all digits: only an overflow fails
        }
        if (size == 0) throw badRequest("size " + quoted + " is zero; " + expected);
        if (size > maxSize) throw badRequest("size " + quoted + " is above the limit; " + expected);
        return (int) size;
    }

    // ---- strings, caches and the leak cap ----------------------------------------------
    static String bigString() {
        return "x".repeat(BIG_STRING_CHARS);
    }

    static final Object leakLock = new Object();
    static final ArrayList<String> staticStrings = new ArrayList<>();
    static long staticBytes, unboundedBytes, nextKey;
    static final Map<Long, String> unbounded = new HashMap<>();
    // Insertion order = expiry order (one TTL): expired entries are at the front.
    static final LinkedHashMap<Long, String> expiring = new LinkedHashMap<>();
    static final ArrayDeque<long[]> expiries = new ArrayDeque<>(); // {key, expiresAtNanos}

    static void checkLeakCap(String endpoint, long adding) throws HttpError {
        long held = staticBytes + unboundedBytes;
        if (held + adding <= leakCap) return;
        throw new HttpError(507, LEAK_CAP_REACHED, "leak cap reached: /api/staticstring and /api/cache/unbounded hold "
                + held + " bytes and " + endpoint + " would add " + adding + " bytes, past --leak-cap " + leakCap
                + " bytes; POST /api/reset drops what they hold (or restart with a larger --leak-cap)");
    }

    static void sweepExpiringLocked() {
        long now = System.nanoTime();
        while (!expiries.isEmpty() && expiries.peekFirst()[1] - now <= 0) {
            expiring.remove(expiries.pollFirst()[0]);
        }
    }

    // ---- buffers ----------------------------------------------------------------------
    // The JDK has no ArrayPool: a bounded pool of power-of-two classes like the Rust
    // server's (16 resting buffers, 64 MiB per class).
    static final Map<Integer, ArrayDeque<byte[]>> pool = new HashMap<>();
    static volatile int sink;

    static int classOf(int size) {
        int c = 16;
        while (c < size) c *= 2;
        return c;
    }

    static byte[] rent(int size) {
        int c = classOf(size);
        synchronized (pool) {
            ArrayDeque<byte[]> list = pool.get(c);
            if (list != null && !list.isEmpty()) return list.pop();
        }
        return new byte[c];
    }

    static void giveBack(byte[] b) {
        int limit = Math.max(1, Math.min(16, (64 << 20) / b.length));
        synchronized (pool) {
            ArrayDeque<byte[]> list = pool.computeIfAbsent(b.length, k -> new ArrayDeque<>());
            if (list.size() < limit) list.push(b);
        }
    }

    static String touched(int size) {
        byte[] b = new byte[size]; // zeroed, like `new byte[size]` in C#
        for (int i = 0; i < size; i += PAGE) b[i] = 1;
        sink = b[size - 1]; // read back, so the allocation cannot be optimised away
        return Integer.toString(b.length);
    }

    // ---- clients ----------------------------------------------------------------------
    static final HttpClient sharedClient = newClient();
    static final List<HttpClient> leakedClients = new ArrayList<>();

    static HttpClient newClient() {
        return HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(10)).build();
    }

    static final Pattern LOOPBACK_V4 = Pattern.compile("127\\.\\d{1,3}\\.\\d{1,3}\\.\\d{1,3}");

    static URI checkLoopbackUrl(String text) throws HttpError {
        String accepted = "only http:// URLs to a loopback host are accepted (127.0.0.0/8, [::1] or localhost), "
                + "e.g. http://127.0.0.1:5000/api/ping";
        URI uri;
        try {
            uri = new URI(text);
        } catch (Exception e) {
            throw badRequest("url " + quote(text) + " is not accepted: it is not a valid absolute URL; " + accepted);
        }
        String why = null;
        String host = uri.getHost();
        if (!"http".equals(uri.getScheme())) why = "the scheme is \"" + uri.getScheme() + "\", not http";
        else if (uri.getUserInfo() != null || (uri.getRawAuthority() != null && uri.getRawAuthority().contains("@")))
            why = "user information (`user@`) is not accepted";
        else if (host == null) why = "it has no host";
        else {
            if (host.equals("localhost")) host = "127.0.0.1";
            if (!LOOPBACK_V4.matcher(host).matches() && !host.equals("[::1]")) why = "the host is not loopback";
        }
        if (why != null) throw badRequest("url " + quote(text) + " is not accepted: " + why + "; " + accepted);
        int port = uri.getPort() == -1 ? 80 : uri.getPort();
        return URI.create("http://" + host + ":" + port + (uri.getRawPath() == null ? "/" : uri.getRawPath())
                + (uri.getRawQuery() == null ? "" : "?" + uri.getRawQuery()));
    }

    static HttpResponse<byte[]> fetch(HttpClient client, URI target, String shown) throws HttpError {
        try {
            HttpRequest request = HttpRequest.newBuilder(target).timeout(Duration.ofSeconds(10)).GET().build();
            return client.send(request, HttpResponse.BodyHandlers.ofByteArray());
        } catch (Exception e) {
            String text = String.valueOf(e);
            String kind = text.contains("Connection refused") ? "connection refused"
                    : text.contains("Cannot assign requested address") ? "address not available"
                    : text.contains("Timeout") || text.contains("timed out") ? "timeout"
                    : text.contains("Too many open files") ? "too many open files" : "upstream error";
            throw new HttpError(502, kind, "the upstream " + shown + " failed: " + kind + " (" + text + ")");
        }
    }

    static Object httpClient(int which, HttpExchange ex) throws HttpError {
        String shown = queryParam(ex, "url");
        if (shown == null) shown = "http://" + selfAddr + "/api/ping";
        URI target = checkLoopbackUrl(shown);
        // httpclient1: a new client (own pool, own selector thread) per request, dropped
        // after; httpclient2: the one shared client.
        HttpClient client = which == 1 ? newClient() : sharedClient;
        HttpResponse<byte[]> reply = fetch(client, target, shown);
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("client", which == 1 ? "new per request" : "shared");
        out.put("url", shown);
        out.put("connected_to", target.getHost() + ":" + target.getPort());
        out.put("upstream_status", reply.statusCode());
        out.put("upstream_body_bytes", reply.body().length);
        return out;
    }

    static Object clientLeak() throws HttpError {
        synchronized (leakedClients) {
            if (leakedClients.size() >= clientLeakCap)
                throw new HttpError(507, LEAK_CAP_REACHED, "clientleak holds " + clientLeakCap
                        + " connections, its cap (--client-leak-cap " + clientLeakCap + "); POST /api/reset closes them");
        }
        HttpClient client = newClient();
        String url = "http://" + selfAddr + "/api/ping";
        HttpResponse<byte[]> reply = fetch(client, URI.create(url), url);
        int held;
        synchronized (leakedClients) {
            leakedClients.add(client);
            held = leakedClients.size();
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("connections_held", held);
        out.put("cap", clientLeakCap);
        out.put("connection_heap_bytes", null);
        out.put("held_heap_bytes", null);
        out.put("upstream_status", reply.statusCode());
        out.put("threads", Thread.activeCount());
        return out;
    }

    // ---- diagnostics ------------------------------------------------------------------
    static Map<String, Object> held(long items, long bytes) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("items", items);
        m.put("bytes", bytes);
        return m;
    }

    static Map<String, Object> leaks() {
        Map<String, Object> out = new LinkedHashMap<>();
        synchronized (leakLock) {
            sweepExpiringLocked();
            out.put("staticstring", held(staticStrings.size(), staticBytes));
            out.put("cache_unbounded", held(unbounded.size(), unboundedBytes));
            out.put("cache_expiring", held(expiring.size(), expiring.size() * (long) (BIG_STRING_CHARS + 8)));
        }
        synchronized (leakedClients) {
            out.put("clientleak", held(leakedClients.size(), 0));
        }
        out.put("fileprovider", held(0, 0));
        long items = 0, bytes = 0;
        synchronized (pool) {
            for (ArrayDeque<byte[]> list : pool.values())
                for (byte[] b : list) {
                    items++;
                    bytes += b.length;
                }
        }
        out.put("pooled_buffers", held(items, bytes));
        return out;
    }

    static Long osThreads() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status")))
                if (line.startsWith("Threads:")) return Long.parseLong(line.substring(8).trim());
        } catch (Exception e) {
            // not Linux: leave it out
        }
        return null;
    }

    static String shortName(String collector) {
        String n = collector.toLowerCase();
        if (n.contains("young") || n.equals("copy") || n.contains("scavenge") || n.equals("parnew")) return "young";
        if (n.contains("old") || n.contains("marksweep") || n.contains("mark sweep")) return "old";
        return n.replaceAll("[^a-z0-9]+", "_");
    }

    static Object diagnostics() {
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("contract_version", 2);
        d.put("pid", ProcessHandle.current().pid());
        d.put("uptime_s", (System.nanoTime() - STARTED) / 1e9);
        Map<String, Long> reqs = snapshot(requests);
        d.put("requests", reqs);
        d.put("requests_total", reqs.values().stream().mapToLong(Long::longValue).sum());
        d.put("errors", snapshot(errors));
        d.put("leaks", leaks());

        List<GarbageCollectorMXBean> gcs = ManagementFactory.getGarbageCollectorMXBeans();
        Map<String, Object> runtime = new LinkedHashMap<>();
        runtime.put("name", "jvm");
        runtime.put("version", System.getProperty("java.vm.vendor") + " " + Runtime.version());
        List<String> names = new ArrayList<>();
        for (GarbageCollectorMXBean gc : gcs) names.add(gc.getName());
        String collector = String.join(" + ", names);
        long region = 0;
        try {
            HotSpotDiagnosticMXBean hs = ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class);
            if (collector.contains("G1")) {
                collector = "G1 (" + collector + ")";
                region = Long.parseLong(hs.getVMOption("G1HeapRegionSize").getValue());
            }
        } catch (Exception e) {
            // not HotSpot: no region size
        }
        runtime.put("collector", collector);
        runtime.put("flags", ManagementFactory.getRuntimeMXBean().getInputArguments());
        runtime.put("max_heap_bytes", Runtime.getRuntime().maxMemory());
        if (region > 0) {
            runtime.put("region_bytes", region);
            runtime.put("large_object_threshold_bytes", region / 2);
            runtime.put("large_object_rule", "G1: an object larger than half a region (" + region / 2
                    + " bytes; byte[n] takes n + 16) is humongous, allocated straight into old regions");
        } else {
            runtime.put("large_object_threshold_bytes", null);
            runtime.put("large_object_rule", "no large-object space in this collector");
        }
        d.put("runtime", runtime);

        Map<String, Object> gc = new LinkedHashMap<>();
        gc.put("source", "GarbageCollectorMXBean, MemoryMXBean, MemoryPoolMXBean");
        Map<String, Long> collections = new LinkedHashMap<>();
        Map<String, Double> pauses = new LinkedHashMap<>();
        long total = 0;
        double seconds = 0;
        for (GarbageCollectorMXBean bean : gcs) {
            String key = shortName(bean.getName());
            long n = Math.max(0, bean.getCollectionCount());
            double s = Math.max(0, bean.getCollectionTime()) / 1000.0;
            collections.merge(key, n, Long::sum);
            pauses.merge(key, s, Double::sum);
            total += n;
            seconds += s;
        }
        gc.put("collections", collections);
        gc.put("collections_total", total);
        // The beans' accumulated collection time (for G1 young and mixed/full collections:
        // their stop-the-world time; concurrent marking is not in it).
        gc.put("pause_seconds", pauses);
        gc.put("pause_seconds_total", seconds);
        MemoryUsage heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage();
        gc.put("heap_in_use_bytes", heap.getUsed());
        gc.put("heap_committed_bytes", heap.getCommitted());
        gc.put("large_object_space_bytes", null); // humongous regions have no pool of their own
        Map<String, Long> pools = new LinkedHashMap<>();
        for (MemoryPoolMXBean p : ManagementFactory.getMemoryPoolMXBeans())
            if (p.getType() == MemoryType.HEAP) pools.put(p.getName(), p.getUsage().getUsed());
        gc.put("pools_in_use_bytes", pools);
        gc.put("allocated_bytes_total", null);
        gc.put("threads", osThreads());
        gc.put("java_threads", ManagementFactory.getThreadMXBean().getThreadCount());
        d.put("measured_gc", gc);
        return d;
    }

    static Object reset() {
        Map<String, Object> dropped = leaks();
        synchronized (leakLock) {
            staticStrings.clear();
            staticStrings.trimToSize();
            staticBytes = 0;
            unbounded.clear();
            unboundedBytes = 0;
            expiring.clear();
            expiries.clear();
        }
        synchronized (pool) {
            pool.clear();
        }
        synchronized (leakedClients) {
            leakedClients.clear(); // Java 17: no HttpClient.close(); unreachable now
        }
        long total = 0;
        for (String k : new String[] {"staticstring", "cache_unbounded", "clientleak"})
            total += (Long) ((Map<?, ?>) dropped.get(k)).get("bytes");
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("dropped", dropped);
        out.put("dropped_leak_bytes", total);
        return out;
    }

    // ---- JSON -------------------------------------------------------------------------
    static String quote(String s) {
        StringBuilder b = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            if (c == '"' || c == '\\') b.append('\\').append(c);
            else if (c < 0x20) b.append(String.format("\\u%04x", (int) c));
            else b.append(c);
        }
        return b.append('"').toString();
    }

    static void json(StringBuilder b, Object v) {
        if (v == null) b.append("null");
        else if (v instanceof String) b.append(quote((String) v));
        else if (v instanceof Double && (((Double) v).isNaN() || ((Double) v).isInfinite())) b.append("null");
        else if (v instanceof Number || v instanceof Boolean) b.append(v);
        else if (v instanceof Map) {
            b.append('{');
            boolean first = true;
            for (Map.Entry<?, ?> e : ((Map<?, ?>) v).entrySet()) {
                if (!first) b.append(',');
                first = false;
                b.append(quote(String.valueOf(e.getKey()))).append(':');
                json(b, e.getValue());
            }
            b.append('}');
        } else if (v instanceof List) {
            b.append('[');
            boolean first = true;
            for (Object o : (List<?>) v) {
                if (!first) b.append(',');
                first = false;
                json(b, o);
            }
            b.append(']');
        } else b.append(quote(String.valueOf(v)));
    }

    // ---- routing ----------------------------------------------------------------------
    static final List<String> ROUTES = List.of("/api/ping", "/api/bigstring", "/api/staticstring", "/api/loh",
            "/api/loh/{size}", "/api/array/{size}", "/api/pooledarray/{size}", "/api/cache/unbounded",
            "/api/cache/expiring", "/api/httpclient1", "/api/httpclient2", "/api/clientleak", "/api/diagnostics",
            "/api/reset");
    static final Pattern SIZED = Pattern.compile("(/api/(?:loh|array|pooledarray)/)([^/]*)");

    static String queryParam(HttpExchange ex, String name) {
        String q = ex.getRequestURI().getRawQuery();
        if (q == null) return null;
        for (String pair : q.split("&")) {
            int eq = pair.indexOf('=');
            String k = eq < 0 ? pair : pair.substring(0, eq);
            if (k.equals(name)) return eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
        }
        return null;
    }

    static void send(HttpExchange ex, int status, String type, byte[] body, int length) throws IOException {
        ex.getResponseHeaders().set("content-type", type);
        ex.sendResponseHeaders(status, length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(body, 0, length);
        }
    }

    static void sendText(HttpExchange ex, String text) throws IOException {
        byte[] b = text.getBytes(StandardCharsets.ISO_8859_1.newEncoder().canEncode(text)
                ? StandardCharsets.ISO_8859_1 : StandardCharsets.UTF_8);
        send(ex, 200, "text/plain; charset=utf-8", b, b.length);
    }

    static void sendJson(HttpExchange ex, int status, Object v) throws IOException {
        StringBuilder b = new StringBuilder();
        json(b, v);
        byte[] bytes = b.toString().getBytes(StandardCharsets.UTF_8);
        send(ex, status, "application/json", bytes, bytes.length);
    }

    static void fail(HttpExchange ex, HttpError e) throws IOException {
        count(errors, e.kind);
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("error", e.getMessage());
        body.put("kind", e.kind);
        sendJson(ex, e.status, body);
    }

    static void handle(HttpExchange ex) throws IOException {
        try (ex) {
            String path = ex.getRequestURI().getPath();
            String template = path, arg = null;
            Matcher m = SIZED.matcher(path);
            if (m.matches()) {
                template = m.group(1) + "{size}";
                arg = m.group(2);
            }
            if (!ROUTES.contains(template)) {
                count(requests, "unmatched");
                fail(ex, new HttpError(404, "not found", "no endpoint at " + ex.getRequestMethod() + " " + quote(path)
                        + "; the endpoints are " + String.join(", ", ROUTES) + " (sizes in bytes, e.g. /api/loh/85000)"));
                return;
            }
            count(requests, template);
            String method = template.equals("/api/reset") ? "POST" : "GET";
            if (!ex.getRequestMethod().equals(method)) {
                ex.getResponseHeaders().set("allow", method);
                fail(ex, new HttpError(405, "method not allowed", ex.getRequestMethod() + " is not allowed on "
                        + template + "; the pattern endpoints answer GET, reset answers POST"));
                return;
            }
            try {
                route(ex, template, arg);
            } catch (HttpError e) {
                fail(ex, e);
            } catch (OutOfMemoryError e) {
                fail(ex, new HttpError(503, "out of memory", "the JVM heap is exhausted (" + e.getMessage()
                        + "); POST /api/reset or restart with a larger -Xmx"));
            } catch (RuntimeException e) {
                fail(ex, new HttpError(500, "internal", String.valueOf(e)));
            }
        }
    }

    static void route(HttpExchange ex, String template, String arg) throws IOException, HttpError {
        switch (template) {
            case "/api/ping":
                sendText(ex, "pong");
                break;
            case "/api/bigstring":
                sendText(ex, bigString());
                break;
            case "/api/staticstring": {
                String s;
                synchronized (leakLock) {
                    checkLeakCap(template, BIG_STRING_CHARS);
                    s = bigString();
                    staticStrings.add(s);
                    staticBytes += s.length();
                }
                sendText(ex, s);
                break;
            }
            case "/api/loh":
                sendText(ex, touched(85000));
                break;
            case "/api/loh/{size}":
                sendText(ex, touched(parseSize(arg)));
                break;
            case "/api/array/{size}": {
                byte[] b = new byte[parseSize(arg)];
                ThreadLocalRandom.current().nextBytes(b);
                send(ex, 200, "application/octet-stream", b, b.length);
                break;
            }
            case "/api/pooledarray/{size}": {
                int size = parseSize(arg);
                byte[] b = rent(size);
                try {
                    ThreadLocalRandom r = ThreadLocalRandom.current();
                    for (int i = 0; i < size; i += 8) {
                        long v = r.nextLong();
                        for (int j = 0; j < 8 && i + j < size; j++, v >>>= 8) b[i + j] = (byte) v;
                    }
                    send(ex, 200, "application/octet-stream", b, size);
                } finally {
                    giveBack(b); // after the body is written (RegisterForDispose)
                }
                break;
            }
            case "/api/cache/unbounded": {
                long key;
                synchronized (leakLock) {
                    checkLeakCap(template, BIG_STRING_CHARS + 8);
                    key = ++nextKey;
                    unbounded.put(key, bigString());
                    unboundedBytes += BIG_STRING_CHARS + 8;
                }
                sendText(ex, Long.toString(key));
                break;
            }
            case "/api/cache/expiring": {
                long key;
                synchronized (leakLock) {
                    sweepExpiringLocked();
                    key = ++nextKey;
                    expiring.put(key, bigString());
                    expiries.addLast(new long[] {key, System.nanoTime() + cacheTtlMs * 1_000_000});
                }
                sendText(ex, Long.toString(key));
                break;
            }
            case "/api/httpclient1":
                sendJson(ex, 200, httpClient(1, ex));
                break;
            case "/api/httpclient2":
                sendJson(ex, 200, httpClient(2, ex));
                break;
            case "/api/clientleak":
                sendJson(ex, 200, clientLeak());
                break;
            case "/api/diagnostics":
                sendJson(ex, 200, diagnostics());
                break;
            case "/api/reset":
                sendJson(ex, 200, reset());
                break;
            default:
                throw new HttpError(500, "internal", "no handler for " + template);
        }
    }

    public static void main(String[] args) throws Exception {
        String addr = "127.0.0.1:0";
        for (int i = 0; i < args.length; i++) {
            String flag = args[i], value = i + 1 < args.length ? args[i + 1] : "";
            int eq = flag.indexOf('=');
            if (eq > 0) {
                value = flag.substring(eq + 1);
                flag = flag.substring(0, eq);
            } else i++;
            switch (flag) {
                case "--addr": addr = value; break;
                case "--leak-cap": leakCap = Long.parseLong(value); break;
                case "--max-size": maxSize = Long.parseLong(value); break;
                case "--cache-ttl-ms": cacheTtlMs = Long.parseLong(value); break;
                case "--client-leak-cap": clientLeakCap = Integer.parseInt(value); break;
                default:
                    System.err.println("unknown argument " + flag + "; usage: java Server.java --addr 127.0.0.1:0");
                    System.exit(2);
            }
        }
        // Idle keep-alive connections stay open (the Rust server does not time them out):
        // the JDK server would otherwise close them after 30 s and keep at most 200.
        System.setProperty("sun.net.httpserver.idleInterval", "86400");
        System.setProperty("sun.net.httpserver.maxIdleConnections", "1000000");
        // Headers and body are two writes: without TCP_NODELAY, Nagle's algorithm and the
        // client's delayed ACK add 40 ms to every keep-alive response.
        System.setProperty("sun.net.httpserver.nodelay", "true");
        int colon = addr.lastIndexOf(':');
        String host = addr.substring(0, colon).replaceAll("^\\[|\\]$", "");
        int port = Integer.parseInt(addr.substring(colon + 1));
        HttpServer server = HttpServer.create(new InetSocketAddress(host, port), 1024);
        server.createContext("/", Server::handle);
        // A cached pool: one worker per request in flight, since /api/clientleak and the
        // client endpoints call this same server and must not wait for a free worker.
        server.setExecutor(Executors.newCachedThreadPool());
        server.start();
        InetSocketAddress bound = server.getAddress();
        String ip = bound.getAddress().getHostAddress();
        selfAddr = (ip.contains(":") ? "[" + ip + "]" : ip) + ":" + bound.getPort();
        System.out.println("listening on http://" + selfAddr);
        System.out.flush();
        // SIGTERM and SIGINT: stop accepting and exit 0 (a plain JVM would exit 143/130).
        for (String name : new String[] {"TERM", "INT"}) {
            sun.misc.Signal.handle(new sun.misc.Signal(name), signal -> {
                server.stop(0);
                System.exit(0);
            });
        }
    }
}
