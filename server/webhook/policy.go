package webhook

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"
)

// Policy decides which webhook destinations are acceptable.
type Policy int

const (
	// Dev allows any http or https URL, loopback and private networks
	// included, because a local demo usually wants http://localhost.
	Dev Policy = iota
	// Strict allows http or https URLs without credentials whose host
	// resolves only to public unicast addresses. It is enforced both when a
	// URL is accepted and on the address each connection actually dials, so
	// DNS rebinding cannot slip past it.
	Strict
)

func (p Policy) String() string {
	switch p {
	case Dev:
		return "dev"
	case Strict:
		return "strict"
	}
	return fmt.Sprintf("Policy(%d)", int(p))
}

// ParsePolicy reads "dev" or "strict", as given to --webhook-policy.
func ParsePolicy(s string) (Policy, error) {
	switch strings.ToLower(s) {
	case "dev":
		return Dev, nil
	case "strict":
		return Strict, nil
	}
	return 0, fmt.Errorf("webhook: unknown policy %q (want dev or strict)", s)
}

var (
	// ErrForbiddenURL is wrapped by errors about a URL's form: scheme,
	// credentials, missing or ambiguous host.
	ErrForbiddenURL = errors.New("webhook: URL not allowed")
	// ErrForbiddenAddress is wrapped by errors about where a URL leads: a
	// loopback, private, link-local or otherwise non-public address.
	ErrForbiddenAddress = errors.New("webhook: address not allowed")
)

// Resolver looks up host names; *net.Resolver satisfies it, and tests use a
// fake to play DNS tricks without a network.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// Guard applies a Policy to URLs and to the connections made for them.
type Guard struct {
	Policy   Policy
	Resolver Resolver // default net.DefaultResolver
	// ConnectTimeout bounds each TCP connect; default 5s.
	ConnectTimeout time.Duration
}

// CheckURL is Guard{Policy: p}.CheckURL: the check to run when a webhook is
// created or updated, with the system resolver.
func CheckURL(ctx context.Context, p Policy, rawURL string) error {
	return Guard{Policy: p}.CheckURL(ctx, rawURL)
}

// CheckURL parses rawURL and, under Strict, resolves its host and refuses it
// unless every address is public. Passing here does not make later delivery
// safe by itself (DNS can change); DialContext checks again.
func (g Guard) CheckURL(ctx context.Context, rawURL string) error {
	u, err := g.parse(rawURL)
	if err != nil || g.Policy != Strict {
		return err
	}
	addrs, err := g.resolve(ctx, u.Hostname())
	if err != nil {
		return err
	}
	for _, a := range addrs {
		if !publicUnicast(a) {
			return fmt.Errorf("%w: %s resolves to %s", ErrForbiddenAddress, u.Hostname(), a)
		}
	}
	return nil
}

// parse checks the parts of a URL that need no lookup.
func (g Guard) parse(rawURL string) (*url.URL, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrForbiddenURL, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("%w: scheme must be http or https", ErrForbiddenURL)
	}
	if u.Hostname() == "" {
		return nil, fmt.Errorf("%w: no host", ErrForbiddenURL)
	}
	if g.Policy == Strict {
		if u.User != nil {
			return nil, fmt.Errorf("%w: credentials in the URL", ErrForbiddenURL)
		}
		if _, err := netip.ParseAddr(u.Hostname()); err != nil && ambiguousNumericHost(u.Hostname()) {
			return nil, fmt.Errorf("%w: host %q looks like an IP address in a non-standard spelling", ErrForbiddenURL, u.Hostname())
		}
	}
	return u, nil
}

func (g Guard) resolve(ctx context.Context, host string) ([]netip.Addr, error) {
	if a, err := netip.ParseAddr(host); err == nil {
		return []netip.Addr{a}, nil
	}
	if g.Policy == Strict && ambiguousNumericHost(host) {
		return nil, fmt.Errorf("%w: host %q looks like an IP address in a non-standard spelling", ErrForbiddenURL, host)
	}
	r := g.Resolver
	if r == nil {
		r = net.DefaultResolver
	}
	addrs, err := r.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return nil, fmt.Errorf("webhook: resolving %s: %w", host, err)
	}
	if len(addrs) == 0 {
		return nil, fmt.Errorf("webhook: %s has no addresses", host)
	}
	return addrs, nil
}

// DialContext resolves address with the Guard's resolver and connects only
// to addresses the policy allows; under Strict the socket's Control hook
// checks the final address again just before connect(2), so nothing reaches
// a forbidden address even if the resolution path changes.
func (g Guard) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	host, port, err := net.SplitHostPort(address)
	if err != nil {
		return nil, err
	}
	addrs, err := g.resolve(ctx, host)
	if err != nil {
		return nil, err
	}
	timeout := g.ConnectTimeout
	if timeout <= 0 {
		timeout = 5 * time.Second
	}
	d := net.Dialer{Timeout: timeout}
	if g.Policy == Strict {
		d.Control = refuseNonPublic
	}
	var firstErr error
	for _, a := range addrs {
		if g.Policy == Strict && !publicUnicast(a) {
			if firstErr == nil {
				firstErr = fmt.Errorf("%w: %s resolves to %s", ErrForbiddenAddress, host, a)
			}
			continue
		}
		c, err := d.DialContext(ctx, network, net.JoinHostPort(a.String(), port))
		if err == nil {
			return c, nil
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	return nil, firstErr
}

// refuseNonPublic is a net.Dialer Control hook: it runs after the socket is
// created and before it connects.
func refuseNonPublic(network, address string, _ syscall.RawConn) error {
	if network != "tcp4" && network != "tcp6" {
		return fmt.Errorf("%w: network %s", ErrForbiddenAddress, network)
	}
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrForbiddenAddress, err)
	}
	if !publicUnicast(ap.Addr()) {
		return fmt.Errorf("%w: %s", ErrForbiddenAddress, ap.Addr())
	}
	return nil
}

// Special-purpose ranges (IANA registries) that are never a customer's
// public endpoint.
var (
	nonPublic4 = prefixes(
		"0.0.0.0/8",       // "this network", includes unspecified
		"10.0.0.0/8",      // private
		"100.64.0.0/10",   // carrier-grade NAT
		"127.0.0.0/8",     // loopback
		"169.254.0.0/16",  // link-local, cloud metadata
		"172.16.0.0/12",   // private
		"192.0.0.0/24",    // IETF protocol assignments
		"192.0.2.0/24",    // documentation
		"192.88.99.0/24",  // 6to4 relay anycast
		"192.168.0.0/16",  // private
		"198.18.0.0/15",   // benchmarking
		"198.51.100.0/24", // documentation
		"203.0.113.0/24",  // documentation
		"224.0.0.0/4",     // multicast
		"240.0.0.0/4",     // reserved, broadcast
	)
	nonPublic6 = prefixes(
		"::/96",           // unspecified, loopback, IPv4-compatible
		"::ffff:0:0:0/96", // IPv4-translated
		"64:ff9b:1::/48",  // local-use NAT64
		"100::/64",        // discard
		"2001::/23",       // IETF protocol assignments, Teredo
		"2001:db8::/32",   // documentation
		"2002::/16",       // 6to4, embeds arbitrary IPv4
		"3fff::/20",       // documentation
		"5f00::/16",       // segment routing
		"fc00::/7",        // unique local
		"fe80::/10",       // link-local
		"fec0::/10",       // site-local
		"ff00::/8",        // multicast
	)
	nat64 = netip.MustParsePrefix("64:ff9b::/96")
)

func prefixes(ss ...string) []netip.Prefix {
	out := make([]netip.Prefix, len(ss))
	for i, s := range ss {
		out[i] = netip.MustParsePrefix(s)
	}
	return out
}

// publicUnicast reports whether a may be dialled under Strict. IPv4-mapped
// addresses are judged as the IPv4 address they reach, and so is the IPv4
// address inside a well-known NAT64 prefix.
func publicUnicast(a netip.Addr) bool {
	a = a.Unmap().WithZone("")
	if !a.IsValid() {
		return false
	}
	if a.Is4() {
		for _, p := range nonPublic4 {
			if p.Contains(a) {
				return false
			}
		}
		return true
	}
	if nat64.Contains(a) {
		b := a.As16()
		return publicUnicast(netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]}))
	}
	for _, p := range nonPublic6 {
		if p.Contains(a) {
			return false
		}
	}
	return true
}

// ambiguousNumericHost catches spellings such as 127.1, 2130706433 and
// 0x7f000001 that some resolvers turn into addresses. No real top-level
// domain is all digits, so refusing them costs nothing.
func ambiguousNumericHost(host string) bool {
	host = strings.TrimSuffix(host, ".")
	last := host[strings.LastIndexByte(host, '.')+1:]
	if last == "" {
		return false
	}
	if strings.HasPrefix(strings.ToLower(last), "0x") {
		return true
	}
	for _, r := range last {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}
