// Package reach says where others can reach a listener, for the lines a
// server prints at start: a listener bound to every interface reports
// 0.0.0.0 or [::], which is no address anyone can type. The machine's own
// network addresses are what attendees and phones on the network need.
package reach

import (
	"net"
	"net/url"
	"slices"
	"strings"
)

// Reach is where a listener can be reached from.
type Reach struct {
	// Hosts are addresses or host names to connect to, best first.
	Hosts []string
	// Port is the listener's port.
	Port string
	// ThisMachineOnly is set when only this machine can connect: the
	// listener is on loopback, or bound everywhere on a machine with no
	// network address.
	ThisMachineOnly bool
}

// maxHosts keeps a banner short on machines with many interfaces.
const maxHosts = 4

// Listener is where others reach a listener at listen. publicURL, when
// set, is the address the operator has published (--public-url); its host
// is used if the listener is not on loopback and not bound to one address
// of its own.
func Listener(listen net.Addr, publicURL string) Reach {
	return listener(listen, publicURL, systemInterfaces)
}

// URLs are the base URLs of an HTTP listener, e.g. http://192.0.2.4:4010.
func (r Reach) URLs() []string {
	var urls []string
	for _, h := range r.Hosts {
		urls = append(urls, "http://"+net.JoinHostPort(h, r.Port))
	}
	return urls
}

type iface struct {
	name  string
	flags net.Flags
	addrs []net.Addr
}

func listener(listen net.Addr, publicURL string, interfaces func() []iface) Reach {
	host, port, err := net.SplitHostPort(listen.String())
	if err != nil {
		return Reach{Hosts: []string{listen.String()}}
	}
	ip := net.ParseIP(host)
	switch {
	case ip == nil:
		return Reach{Hosts: []string{host}, Port: port}
	case ip.IsLoopback():
		return Reach{Hosts: []string{host}, Port: port, ThisMachineOnly: true}
	case !ip.IsUnspecified():
		return Reach{Hosts: []string{host}, Port: port}
	}
	if u, err := url.Parse(publicURL); err == nil && u.Hostname() != "" {
		return Reach{Hosts: []string{u.Hostname()}, Port: port}
	}
	hosts := networkAddresses(interfaces())
	if len(hosts) == 0 {
		return Reach{Hosts: []string{"127.0.0.1"}, Port: port, ThisMachineOnly: true}
	}
	return Reach{Hosts: hosts, Port: port}
}

// virtual names interfaces that are usually bridges to containers or
// virtual machines on this machine rather than the network a room shares.
var virtual = []string{"docker", "br-", "veth", "virbr", "vmnet", "vboxnet", "cni", "flannel", "cali", "lxc", "lxd", "podman"}

// networkAddresses lists the addresses of interfaces that are up, IPv4
// before IPv6 and physical-looking interfaces before virtual ones, without
// loopback or link-local addresses (which need a zone to be typed).
func networkAddresses(ifaces []iface) []string {
	type candidate struct {
		ip      net.IP
		virtual bool
	}
	var found []candidate
	for _, in := range ifaces {
		if in.flags&net.FlagUp == 0 || in.flags&net.FlagLoopback != 0 {
			continue
		}
		isVirtual := slices.ContainsFunc(virtual, func(p string) bool { return strings.HasPrefix(in.name, p) })
		for _, a := range in.addrs {
			var ip net.IP
			switch a := a.(type) {
			case *net.IPNet:
				ip = a.IP
			case *net.IPAddr:
				ip = a.IP
			}
			if ip == nil || ip.IsLoopback() || ip.IsLinkLocalUnicast() || ip.IsUnspecified() || ip.IsMulticast() {
				continue
			}
			found = append(found, candidate{ip, isVirtual})
		}
	}
	rank := func(c candidate) int {
		r := 0
		if c.ip.To4() == nil {
			r++
		}
		if c.virtual {
			r += 2
		}
		return r
	}
	slices.SortStableFunc(found, func(a, b candidate) int { return rank(a) - rank(b) })
	var hosts []string
	for _, c := range found {
		if h := c.ip.String(); !slices.Contains(hosts, h) && len(hosts) < maxHosts {
			hosts = append(hosts, h)
		}
	}
	return hosts
}

func systemInterfaces() []iface {
	all, err := net.Interfaces()
	if err != nil {
		return nil
	}
	var out []iface
	for _, in := range all {
		addrs, err := in.Addrs()
		if err != nil {
			continue
		}
		out = append(out, iface{name: in.Name, flags: in.Flags, addrs: addrs})
	}
	return out
}
