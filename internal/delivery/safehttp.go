package delivery

import (
	"cmp"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"

	"code.dny.dev/ssrf"

	"github.com/patchbay/patchbay"
)

// Errors of the outbound policy. Each comes wrapped (in a *url.Error and, for
// addresses, a *net.OpError); test for them with errors.Is to classify a
// delivery failure as "refused by outbound policy" rather than as a failure of
// the receiver.
var (
	// ErrForbiddenAddress: the URL's host is, or resolved to, an address the
	// policy forbids (loopback, private, link-local, …) and that no allowed
	// network covers. The wrapping error names the kind of address only.
	ErrForbiddenAddress = errors.New("destination address forbidden by outbound policy")
	// ErrForbiddenScheme: the URL, or a redirect's, is neither http nor https.
	ErrForbiddenScheme = errors.New("URL scheme forbidden by outbound policy")
	// ErrTooManyRedirects: the receiver redirected more than MaxRedirects times.
	ErrTooManyRedirects = errors.New("too many redirects")
)

// Defaults that NewClient applies to zero Options fields.
const (
	DefaultTimeout      = 30 * time.Second
	DefaultMaxRedirects = 5
)

// Options configures NewClient.
type Options struct {
	// AllowNetworks lists ranges that may be dialled although the policy
	// forbids them otherwise, e.g. 127.0.0.0/8 for local development and
	// tests (--allow-networks, PATCHBAY_ALLOW_NETWORKS).
	AllowNetworks []netip.Prefix
	// Timeout bounds dialling and the wait for response headers; zero
	// means DefaultTimeout. The whole request, redirects and response body
	// included, is bounded by its context, which callers set: the client
	// has no http.Client.Timeout, since that costs a goroutine per request,
	// and in a busy engine each of those waited to run behind dozens of
	// others.
	Timeout time.Duration
	// MaxRedirects is how many redirects a request follows before it fails
	// with ErrTooManyRedirects; zero means DefaultMaxRedirects. A negative
	// value follows none: the 3xx response itself is returned.
	MaxRedirects int
	// IdlePerHost is how many idle keep-alive connections are kept per
	// receiver; it should be at least the number of delivery workers, or
	// busy receivers see connections closed and dialled again. 64 when zero.
	IdlePerHost int
}

// ParseNetworks parses a comma-separated list of CIDR prefixes such as
// "127.0.0.0/8,::1/128"; a bare IP stands for itself (/32 or /128), host bits
// are cleared, and IPv4-mapped IPv6 prefixes become IPv4 ones. An empty or
// blank string gives no networks. It returns EINVALID for an empty entry, a
// malformed prefix or an IPv6 zone.
func ParseNetworks(s string) ([]netip.Prefix, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var out []netip.Prefix
	for entry := range strings.SplitSeq(s, ",") {
		entry = strings.TrimSpace(entry)
		p, err := parseNetwork(entry)
		if err != nil {
			return nil, patchbay.Errorf(patchbay.EINVALID, "Network %q is not a CIDR prefix such as 127.0.0.0/8 or an IP address.", entry)
		}
		out = append(out, p)
	}
	return out, nil
}

func parseNetwork(s string) (netip.Prefix, error) {
	var p netip.Prefix
	if strings.Contains(s, "/") {
		var err error
		if p, err = netip.ParsePrefix(s); err != nil {
			return p, err
		}
	} else {
		ip, err := netip.ParseAddr(s)
		if err != nil {
			return p, err
		}
		if ip.Zone() != "" {
			return p, errors.New("zoned address")
		}
		p = netip.PrefixFrom(ip, ip.BitLen())
	}
	// The dialer sees IPv4-mapped addresses as plain IPv4, so match them so.
	if ip := p.Addr(); ip.Is4In6() && p.Bits() >= 96 {
		p = netip.PrefixFrom(ip.Unmap(), p.Bits()-96)
	}
	return p.Masked(), nil
}

// NewClient returns an HTTP client for user-supplied URLs. Its dialer checks
// every connection, after DNS resolution (so a name that resolves, or
// rebinds, to a forbidden address is caught) and on every redirect, and
// refuses loopback, private (RFC 1918, fc00::/7), link-local (169.254.0.0/16
// with cloud metadata, fe80::/10), multicast, unspecified, broadcast, shared
// (100.64.0.0/10) and the other IANA special-purpose and reserved addresses,
// IPv4-mapped IPv6 forms included, unless an allowed network covers them.
// IPv6 is refused outside the global unicast range 2000::/3 (NAT64
// 64:ff9b::/96 included). Any port may be dialled. Environment proxies are
// ignored. Only http and https URLs are fetched, on the first request and on
// redirects, and at most opts.MaxRedirects redirects are followed.
//
// Refusals fail the request with an error wrapping ErrForbiddenAddress,
// ErrForbiddenScheme or ErrTooManyRedirects.
func NewClient(opts Options) *http.Client {
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.MaxRedirects == 0 {
		opts.MaxRedirects = DefaultMaxRedirects
	}
	dialer := &net.Dialer{
		Timeout:   min(opts.Timeout, 10*time.Second),
		KeepAlive: 30 * time.Second,
		Control:   newGuard(opts.AllowNetworks).control,
	}
	tr := &http.Transport{
		Proxy:                 nil, // never the environment's: a proxy would dial for us, unchecked
		DialContext:           dialer.DialContext,
		TLSClientConfig:       &tls.Config{MinVersion: tls.VersionTLS12},
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          1024,
		MaxIdleConnsPerHost:   cmp.Or(opts.IdlePerHost, 64),
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
		ResponseHeaderTimeout: opts.Timeout,
	}
	maxRedirects := opts.MaxRedirects
	return &http.Client{
		Transport: &guardedTransport{rt: tr, dialer: dialer},
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if maxRedirects < 0 {
				return http.ErrUseLastResponse
			}
			if err := checkScheme(req.URL); err != nil {
				return err
			}
			if len(via) > maxRedirects {
				return fmt.Errorf("%w: stopped after %d", ErrTooManyRedirects, maxRedirects)
			}
			return nil
		},
	}
}

// guardedTransport refuses non-HTTP(S) URLs before the transport sees them:
// http.Transport would refuse unknown schemes too, but not one registered
// later with RegisterProtocol, and its error is not classifiable.
type guardedTransport struct {
	rt     *http.Transport
	dialer *net.Dialer // kept for tests, which add a safety net to its Control
}

// RoundTrip implements http.RoundTripper.
func (t *guardedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if err := checkScheme(req.URL); err != nil {
		if req.Body != nil {
			req.Body.Close() // RoundTrip must close the body, even on error
		}
		return nil, err
	}
	return t.rt.RoundTrip(req)
}

// CloseIdleConnections lets http.Client.CloseIdleConnections reach the
// transport.
func (t *guardedTransport) CloseIdleConnections() { t.rt.CloseIdleConnections() }

func checkScheme(u *url.URL) error {
	if u == nil {
		return fmt.Errorf("%w: no URL", ErrForbiddenScheme)
	}
	switch u.Scheme {
	case "http", "https":
		return nil
	}
	return fmt.Errorf("%w: %q (only http and https)", ErrForbiddenScheme, u.Scheme)
}

// guard is the dialer's Control hook. The deny-lists come from
// code.dny.dev/ssrf, generated from the IANA special-purpose registries; it
// denies all IPv6 outside 2000::/3, so new special ranges there are refused
// by default. We call its SafeAddr rather than install its Safe as the hook
// because Safe's errors quote the address and the matching prefix, and ours
// must name only the kind of address.
type guard struct {
	ssrf *ssrf.Guardian
}

func newGuard(allow []netip.Prefix) *guard {
	var v4, v6 []netip.Prefix
	for _, p := range allow {
		if p.Addr().Is4() {
			v4 = append(v4, p)
		} else {
			v6 = append(v6, p)
		}
	}
	return &guard{ssrf: ssrf.New(
		ssrf.WithAnyPort(), // webhook receivers listen on any port
		ssrf.WithAllowedV4Prefixes(v4...),
		ssrf.WithAllowedV6Prefixes(v6...),
	)}
}

// control runs once per connection, after DNS resolution and before the
// connect system call, with the IP being dialled.
func (g *guard) control(network, address string, _ syscall.RawConn) error {
	if network != "tcp4" && network != "tcp6" {
		return fmt.Errorf("%w: network %s", ErrForbiddenAddress, network)
	}
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: unparsable address", ErrForbiddenAddress)
	}
	return g.check(ap.Addr())
}

// check returns nil if ip may be dialled, or an error wrapping
// ErrForbiddenAddress that names the kind of address.
func (g *guard) check(ip netip.Addr) error {
	// Go dials IPv4-mapped IPv6 addresses as IPv4, so judge them so (the
	// library would refuse every mapped address, even allowed ones).
	ip = ip.Unmap().WithZone("")
	if g.ssrf.SafeAddr(ip) == nil {
		return nil
	}
	return fmt.Errorf("%w: %s address", ErrForbiddenAddress, addressKind(ip))
}

var (
	sharedSpace = netip.MustParsePrefix("100.64.0.0/10")
	nat64       = netip.MustParsePrefix("64:ff9b::/96")
	nat64Local  = netip.MustParsePrefix("64:ff9b:1::/48")
	broadcast   = netip.AddrFrom4([4]byte{255, 255, 255, 255})
	metadataV4  = netip.MustParseAddr("169.254.169.254") // AWS, GCP, Azure, …
	metadataV6  = netip.MustParseAddr("fd00:ec2::254")   // AWS over IPv6
)

// addressKind names the reason an address is refused, for error messages.
func addressKind(ip netip.Addr) string {
	switch {
	case ip.IsUnspecified():
		return "unspecified"
	case ip.IsLoopback():
		return "loopback"
	case ip == broadcast:
		return "broadcast"
	case ip.IsMulticast():
		return "multicast"
	case ip == metadataV4 || ip == metadataV6:
		return "cloud metadata"
	case ip.IsLinkLocalUnicast():
		return "link-local"
	case ip.IsPrivate():
		return "private"
	case sharedSpace.Contains(ip):
		return "shared (carrier-grade NAT)"
	case nat64.Contains(ip) || nat64Local.Contains(ip):
		return "NAT64"
	}
	return "reserved"
}
