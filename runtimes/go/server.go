// membench reference pattern server for Go (net/http, standard library only).
//
//	GO111MODULE=off go build -o server server.go
//	./server --addr 127.0.0.1:0 [--leak-cap BYTES] [--max-size BYTES] [--cache-ttl-ms MS] [--client-leak-cap N]
//
// Serves the patterns of membench's Rust server (src/server/*.rs) with the same paths,
// status codes and JSON error bodies, and GET /api/diagnostics in the contract of
// docs/diagnostics-contract.md (version 2) with MEASURED Go GC data from
// runtime.ReadMemStats: GC cycles (automatic and forced), total stop-the-world pause,
// heap in use, live bytes in large (> 32 KiB) objects, goroutines.
//
// Go facts that matter when reading the numbers:
//   - The Go GC is concurrent mark-sweep and not generational: every cycle is a whole-heap
//     cycle, paced by GOGC (the heap may grow to live × (1 + GOGC/100) before the next).
//   - Objects up to 32 KiB come from size-classed spans; above 32 KiB each object is a
//     "large" allocation of its own span, rounded up to whole 8 KiB pages and zeroed.
//   - /api/clientleak is the gRPC post-mortem in its own language: a new http.Transport
//     per request, never closed; each idle connection keeps a readLoop and a writeLoop
//     goroutine on the client side and a conn goroutine on the server side, so
//     runtime.NumGoroutine() grows by 3 per request.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

var (
	addrFlag      = flag.String("addr", "127.0.0.1:0", "listen address; port 0 picks a free port")
	leakCap       = flag.Int64("leak-cap", 256<<20, "most bytes /api/staticstring and /api/cache/unbounded may hold together")
	maxSize       = flag.Int64("max-size", 64<<20, "largest size accepted by /api/loh, /api/array, /api/pooledarray")
	cacheTTLMs    = flag.Int64("cache-ttl-ms", 500, "expiry of /api/cache/expiring entries, in milliseconds")
	clientLeakCap = flag.Int("client-leak-cap", 2000, "most connections /api/clientleak keeps")
)

var started = time.Now()

// ---- counters and errors -------------------------------------------------------------

type counters struct {
	mu sync.Mutex
	m  map[string]uint64
}

func (c *counters) inc(key string) { c.mu.Lock(); c.m[key]++; c.mu.Unlock() }
func (c *counters) snapshot() (map[string]uint64, uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	out, total := make(map[string]uint64, len(c.m)), uint64(0)
	for k, v := range c.m {
		out[k] = v
		total += v
	}
	return out, total
}

var requests = &counters{m: map[string]uint64{}}
var errorCounts = &counters{m: map[string]uint64{}}

type httpError struct {
	status int
	kind   string
	msg    string
}

func (e *httpError) Error() string { return e.msg }

const leakCapReached = "leak cap reached"

func badRequest(format string, args ...any) *httpError {
	return &httpError{400, "bad request", fmt.Sprintf(format, args...)}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	body, _ := json.Marshal(v)
	w.Header().Set("content-type", "application/json")
	w.Header().Set("content-length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	w.Write(body)
}

func fail(w http.ResponseWriter, err error) {
	var he *httpError
	if !errors.As(err, &he) {
		he = &httpError{500, "internal", err.Error()}
	}
	errorCounts.inc(he.kind)
	writeJSON(w, he.status, map[string]string{"error": he.msg, "kind": he.kind})
}

func writeText(w http.ResponseWriter, s string) {
	w.Header().Set("content-type", "text/plain; charset=utf-8")
	w.Header().Set("content-length", strconv.Itoa(len(s)))
	io.WriteString(w, s) // no []byte copy of the string
}

// ---- sizes ---------------------------------------------------------------------------

func parseSize(text string) (int, error) {
	expected := fmt.Sprintf("expected a whole number of bytes from 1 to %d (set with --max-size)", *maxSize)
	digits := func(s string) bool {
		if s == "" {
			return false
		}
		for _, r := range s {
			if r < '0' || r > '9' {
				return false
			}
		}
		return true
	}
	if strings.HasPrefix(text, "-") && digits(text[1:]) {
		return 0, badRequest("size %q is negative; %s", text, expected)
	}
	if !digits(text) {
		return 0, badRequest("size %q is not a number; %s", text, expected)
	}
	size, err := strconv.ParseInt(text, 10, 64)
	if err != nil || size > *maxSize {
		return 0, badRequest("size %q is above the limit; %s", text, expected)
	}
	if size == 0 {
		return 0, badRequest("size %q is zero; %s", text, expected)
	}
	return int(size), nil
}

// ---- strings, caches and the leak cap -------------------------------------------------

const bigStringBytes = 10 * 1024

func bigString() string { return strings.Repeat("x", bigStringBytes) }

type held struct {
	Items uint64 `json:"items"`
	Bytes uint64 `json:"bytes"`
}

var leakMu sync.Mutex // guards the static list and both caches
var staticStrings []string
var staticBytes int64
var unbounded = map[uint64]string{}
var unboundedBytes int64

type expiringEntry struct {
	key     uint64
	expires time.Time
}

var expiring = map[uint64]string{}
var expiryQueue []expiringEntry // in insertion order = expiry order (one TTL)
var nextKey uint64

func checkLeakCap(endpoint string, adding int64) error {
	heldBytes := staticBytes + unboundedBytes
	if heldBytes+adding <= *leakCap {
		return nil
	}
	return &httpError{507, leakCapReached, fmt.Sprintf("leak cap reached: /api/staticstring and "+
		"/api/cache/unbounded hold %d bytes and %s would add %d bytes, past --leak-cap %d bytes; "+
		"POST /api/reset drops what they hold (or restart with a larger --leak-cap)",
		heldBytes, endpoint, adding, *leakCap)}
}

func sweepExpiringLocked(now time.Time) {
	i := 0
	for ; i < len(expiryQueue) && !expiryQueue[i].expires.After(now); i++ {
		delete(expiring, expiryQueue[i].key)
	}
	expiryQueue = expiryQueue[i:]
}

// ---- buffers -------------------------------------------------------------------------

const page = 4096

// Resting buffers per power-of-two size class, bounded like the Rust server's pool (16
// buffers, 64 MiB per class). Not sync.Pool: sync.Pool drops its buffers at every GC
// cycle, which would mix the collector's pacing into a pattern about reuse.
var poolMu sync.Mutex
var pool = map[int][][]byte{}

func classOf(size int) int {
	c := 16
	for c < size {
		c *= 2
	}
	return c
}

func rent(size int) []byte {
	c := classOf(size)
	poolMu.Lock()
	if list := pool[c]; len(list) > 0 {
		b := list[len(list)-1]
		pool[c] = list[:len(list)-1]
		poolMu.Unlock()
		return b
	}
	poolMu.Unlock()
	return make([]byte, c)
}

func giveBack(b []byte) {
	c := len(b)
	limit := (64 << 20) / c
	if limit > 16 {
		limit = 16
	}
	if limit < 1 {
		limit = 1
	}
	poolMu.Lock()
	if len(pool[c]) < limit {
		pool[c] = append(pool[c], b)
	}
	poolMu.Unlock()
}

var rngs = sync.Pool{New: func() any { return rand.New(rand.NewSource(time.Now().UnixNano())) }}

func fillRandom(b []byte) {
	r := rngs.Get().(*rand.Rand)
	r.Read(b)
	rngs.Put(r)
}

// touched allocates a zeroed buffer, writes one byte per page and returns its length.
func touched(size int) int {
	b := make([]byte, size)
	for i := 0; i < size; i += page {
		b[i] = 1
	}
	runtime.KeepAlive(b)
	return len(b)
}

// ---- clients -------------------------------------------------------------------------

var selfAddr string
var sharedClient = &http.Client{
	Transport: &http.Transport{MaxIdleConnsPerHost: 64, IdleConnTimeout: 90 * time.Second},
	Timeout:   10 * time.Second,
}
var leakedMu sync.Mutex
var leakedTransports []*http.Transport

func checkLoopbackURL(text string) (string, error) {
	accepted := "only http:// URLs to a loopback host are accepted (127.0.0.0/8, [::1] or localhost), e.g. http://127.0.0.1:5000/api/ping"
	reject := func(why string) error {
		return badRequest("url %q is not accepted: %s; %s", text, why, accepted)
	}
	u, err := url.Parse(text)
	if err != nil || !u.IsAbs() {
		return "", reject("it is not a valid absolute URL")
	}
	if u.Scheme != "http" {
		return "", reject(fmt.Sprintf("the scheme is %q, not http", u.Scheme))
	}
	if u.User != nil {
		return "", reject("user information (`user@`) is not accepted")
	}
	host := u.Hostname()
	if host == "localhost" {
		host = "127.0.0.1"
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return "", reject("the host is not loopback")
	}
	port := u.Port()
	if port == "" {
		port = "80"
	}
	if p, err := strconv.Atoi(port); err != nil || p < 1 || p > 65535 {
		return "", reject("the port is not a number from 1 to 65535")
	}
	u.Host = net.JoinHostPort(ip.String(), port) // connect to the address that was checked
	return u.String(), nil
}

func upstreamError(url string, err error) error {
	kind := "upstream error"
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		kind = "connection refused"
	case errors.Is(err, syscall.EADDRNOTAVAIL):
		kind = "address not available"
	case errors.Is(err, syscall.EMFILE):
		kind = "too many open files"
	case errors.Is(err, syscall.ECONNRESET):
		kind = "connection reset"
	case os.IsTimeout(err):
		kind = "timeout"
	}
	return &httpError{502, kind, fmt.Sprintf("the upstream %s failed: %s (%v)", url, kind, err)}
}

func fetch(client *http.Client, target, shown string) (int, int64, error) {
	resp, err := client.Get(target)
	if err != nil {
		return 0, 0, upstreamError(shown, err)
	}
	n, err := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err != nil {
		return 0, 0, upstreamError(shown, err)
	}
	return resp.StatusCode, n, nil
}

func httpClient(which int, r *http.Request) (any, error) {
	shown := r.URL.Query().Get("url")
	if shown == "" {
		shown = "http://" + selfAddr + "/api/ping"
	}
	target, err := checkLoopbackURL(shown)
	if err != nil {
		return nil, err
	}
	client, name := sharedClient, "shared"
	if which == 1 {
		// A new client (and connection pool) per request, closed after: this end closes
		// first and keeps the TIME_WAIT socket.
		transport := &http.Transport{}
		defer transport.CloseIdleConnections()
		client, name = &http.Client{Transport: transport, Timeout: 10 * time.Second}, "new per request"
	}
	status, n, err := fetch(client, target, shown)
	if err != nil {
		return nil, err
	}
	u, _ := url.Parse(target)
	return map[string]any{"client": name, "url": shown, "connected_to": u.Host,
		"upstream_status": status, "upstream_body_bytes": n}, nil
}

func clientLeak() (any, error) {
	leakedMu.Lock()
	full := len(leakedTransports) >= *clientLeakCap
	leakedMu.Unlock()
	if full {
		return nil, &httpError{507, leakCapReached, fmt.Sprintf("clientleak holds %d connections, its cap "+
			"(--client-leak-cap %d); POST /api/reset closes them", *clientLeakCap, *clientLeakCap)}
	}
	// The post-mortem: a client per request, Close never called. The transport keeps
	// its idle connection and that connection's two goroutines forever.
	transport := &http.Transport{}
	client := &http.Client{Transport: transport, Timeout: 10 * time.Second}
	status, _, err := fetch(client, "http://"+selfAddr+"/api/ping", "http://"+selfAddr+"/api/ping")
	if err != nil {
		return nil, err
	}
	leakedMu.Lock()
	leakedTransports = append(leakedTransports, transport)
	n := len(leakedTransports)
	leakedMu.Unlock()
	return map[string]any{"connections_held": n, "cap": *clientLeakCap, "connection_heap_bytes": nil,
		"held_heap_bytes": nil, "upstream_status": status, "goroutines": runtime.NumGoroutine()}, nil
}

// ---- diagnostics ---------------------------------------------------------------------

func leaks() map[string]held {
	leakMu.Lock()
	sweepExpiringLocked(time.Now())
	out := map[string]held{
		"staticstring":    {uint64(len(staticStrings)), uint64(staticBytes)},
		"cache_unbounded": {uint64(len(unbounded)), uint64(unboundedBytes)},
		"cache_expiring":  {uint64(len(expiring)), uint64(len(expiring) * (bigStringBytes + 8))},
		"fileprovider":    {0, 0},
	}
	leakMu.Unlock()
	leakedMu.Lock()
	out["clientleak"] = held{uint64(len(leakedTransports)), 0}
	leakedMu.Unlock()
	var p held
	poolMu.Lock()
	for _, list := range pool {
		for _, b := range list {
			p.Items++
			p.Bytes += uint64(len(b))
		}
	}
	poolMu.Unlock()
	out["pooled_buffers"] = p
	return out
}

func osThreads() any {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return nil
	}
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "Threads:") {
			n, _ := strconv.Atoi(strings.TrimSpace(line[len("Threads:"):]))
			return n
		}
	}
	return nil
}

func diagnostics() any {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	// Live bytes in small (size-classed, <= 32 KiB) objects; the rest of HeapAlloc is
	// large objects, each on spans of its own.
	var small uint64
	for _, c := range ms.BySize {
		small += (c.Mallocs - c.Frees) * uint64(c.Size)
	}
	large := int64(ms.HeapAlloc) - int64(small)
	if large < 0 {
		large = 0
	}
	reqs, total := requests.snapshot()
	errs, _ := errorCounts.snapshot()
	gogc := os.Getenv("GOGC")
	if gogc == "" {
		gogc = "100"
	}
	flags := []string{"GOGC=" + gogc, "GOMAXPROCS=" + strconv.Itoa(runtime.GOMAXPROCS(0))}
	if limit := debug.SetMemoryLimit(-1); limit != 1<<63-1 {
		flags = append(flags, "GOMEMLIMIT="+strconv.FormatInt(limit, 10))
	}
	return map[string]any{
		"contract_version": 2,
		"pid":              os.Getpid(),
		"uptime_s":         time.Since(started).Seconds(),
		"requests":         reqs,
		"requests_total":   total,
		"errors":           errs,
		"leaks":            leaks(),
		"runtime": map[string]any{
			"name":                         "go",
			"version":                      strings.TrimPrefix(runtime.Version(), "go"),
			"collector":                    "Go concurrent mark-sweep (non-generational, GOGC-paced)",
			"flags":                        flags,
			"large_object_threshold_bytes": 32768,
			"large_object_rule":            "objects above 32 KiB are large allocations: a span of their own, rounded up to whole 8 KiB pages",
		},
		"measured_gc": map[string]any{
			"source": "runtime.ReadMemStats",
			"collections": map[string]uint64{
				"cycles":    uint64(ms.NumGC),
				"automatic": uint64(ms.NumGC - ms.NumForcedGC),
				"forced":    uint64(ms.NumForcedGC),
			},
			"collections_total":        uint64(ms.NumGC),
			"pause_seconds_total":      float64(ms.PauseTotalNs) / 1e9,
			"heap_in_use_bytes":        ms.HeapAlloc,
			"heap_committed_bytes":     ms.HeapSys - ms.HeapReleased,
			"heap_goal_bytes":          ms.NextGC,
			"large_object_space_bytes": large,
			"allocated_bytes_total":    ms.TotalAlloc,
			"allocations_total":        ms.Mallocs,
			"gc_cpu_fraction":          ms.GCCPUFraction,
			"threads":                  osThreads(),
			"goroutines":               runtime.NumGoroutine(),
		},
	}
}

func reset() any {
	dropped := leaks()
	leakMu.Lock()
	staticStrings, staticBytes = nil, 0
	unbounded, unboundedBytes = map[uint64]string{}, 0
	expiring, expiryQueue = map[uint64]string{}, nil
	leakMu.Unlock()
	poolMu.Lock()
	pool = map[int][][]byte{}
	poolMu.Unlock()
	leakedMu.Lock()
	transports := leakedTransports
	leakedTransports = nil
	leakedMu.Unlock()
	for _, t := range transports {
		t.CloseIdleConnections()
	}
	total := dropped["staticstring"].Bytes + dropped["cache_unbounded"].Bytes + dropped["clientleak"].Bytes
	return map[string]any{"dropped": dropped, "dropped_leak_bytes": total}
}

// ---- routing -------------------------------------------------------------------------

var routes = []string{"/api/ping", "/api/bigstring", "/api/staticstring", "/api/loh", "/api/loh/{size}",
	"/api/array/{size}", "/api/pooledarray/{size}", "/api/cache/unbounded", "/api/cache/expiring",
	"/api/httpclient1", "/api/httpclient2", "/api/clientleak", "/api/diagnostics", "/api/reset"}

// handle answers one request; it returns the route template it matched ("" for none).
func handle(w http.ResponseWriter, r *http.Request) string {
	path := r.URL.Path
	template, method, arg := path, http.MethodGet, ""
	for _, prefix := range []string{"/api/loh/", "/api/array/", "/api/pooledarray/"} {
		if rest := strings.TrimPrefix(path, prefix); rest != path && !strings.Contains(rest, "/") {
			template, arg = prefix+"{size}", rest
		}
	}
	if path == "/api/reset" {
		method = http.MethodPost
	}
	known := false
	for _, t := range routes {
		known = known || t == template
	}
	if !known {
		requests.inc("unmatched")
		fail(w, &httpError{404, "not found", fmt.Sprintf("no endpoint at %s %q; the endpoints are %s "+
			"(sizes in bytes, e.g. /api/loh/85000)", r.Method, path, strings.Join(routes, ", "))})
		return ""
	}
	requests.inc(template)
	if r.Method != method {
		w.Header().Set("allow", method)
		fail(w, &httpError{405, "method not allowed", fmt.Sprintf("%s is not allowed on %s; the pattern "+
			"endpoints answer GET, reset answers POST", r.Method, template)})
		return template
	}
	var reply any
	var err error
	switch template {
	case "/api/ping":
		writeText(w, "pong")
		return template
	case "/api/bigstring":
		writeText(w, bigString())
		return template
	case "/api/staticstring":
		leakMu.Lock()
		if err = checkLeakCap(path, bigStringBytes); err == nil {
			s := bigString()
			staticStrings = append(staticStrings, s)
			staticBytes += int64(len(s))
			reply = s
		}
		leakMu.Unlock()
	case "/api/loh":
		reply = strconv.Itoa(touched(85000))
	case "/api/loh/{size}":
		var size int
		if size, err = parseSize(arg); err == nil {
			reply = strconv.Itoa(touched(size))
		}
	case "/api/array/{size}":
		var size int
		if size, err = parseSize(arg); err == nil {
			b := make([]byte, size)
			fillRandom(b)
			reply = b
		}
	case "/api/pooledarray/{size}":
		var size int
		if size, err = parseSize(arg); err == nil {
			b := rent(size)
			defer giveBack(b) // after the body is written
			fillRandom(b[:size])
			reply = b[:size]
		}
	case "/api/cache/unbounded":
		leakMu.Lock()
		if err = checkLeakCap(path, bigStringBytes+8); err == nil {
			nextKey++
			unbounded[nextKey] = bigString()
			unboundedBytes += bigStringBytes + 8
			reply = strconv.FormatUint(nextKey, 10)
		}
		leakMu.Unlock()
	case "/api/cache/expiring":
		leakMu.Lock()
		now := time.Now()
		sweepExpiringLocked(now)
		nextKey++
		expiring[nextKey] = bigString()
		expiryQueue = append(expiryQueue, expiringEntry{nextKey, now.Add(time.Duration(*cacheTTLMs) * time.Millisecond)})
		reply = strconv.FormatUint(nextKey, 10)
		leakMu.Unlock()
	case "/api/httpclient1":
		reply, err = httpClient(1, r)
	case "/api/httpclient2":
		reply, err = httpClient(2, r)
	case "/api/clientleak":
		reply, err = clientLeak()
	case "/api/diagnostics":
		reply = diagnostics()
	case "/api/reset":
		reply = reset()
	}
	switch v := reply.(type) {
	case nil:
		fail(w, err)
	case string:
		writeText(w, v)
	case []byte:
		w.Header().Set("content-type", "application/octet-stream")
		w.Header().Set("content-length", strconv.Itoa(len(v)))
		w.Write(v)
	default:
		writeJSON(w, http.StatusOK, v)
	}
	return template
}

func main() {
	flag.Parse()
	listener, err := net.Listen("tcp", *addrFlag)
	if err != nil {
		fmt.Fprintf(os.Stderr, "cannot listen on %s: %v\n", *addrFlag, err)
		os.Exit(1)
	}
	selfAddr = listener.Addr().String()
	fmt.Printf("listening on http://%s\n", selfAddr) // os.Stdout is unbuffered
	server := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { handle(w, r) })}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		server.Shutdown(shutdown)
	}()
	if err := server.Serve(listener); err != nil && err != http.ErrServerClosed {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
