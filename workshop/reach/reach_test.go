package reach

import (
	"net"
	"reflect"
	"testing"
)

func ipnet(s string) net.Addr {
	ip, n, err := net.ParseCIDR(s)
	if err != nil {
		panic(err)
	}
	n.IP = ip
	return n
}

// laptop has what a presenter's laptop has: loopback, Wi-Fi with IPv4,
// link-local and global IPv6, a docker bridge, and an interface that is down.
func laptop() []iface {
	up := net.FlagUp | net.FlagBroadcast
	return []iface{
		{"lo", net.FlagUp | net.FlagLoopback, []net.Addr{ipnet("127.0.0.1/8"), ipnet("::1/128")}},
		{"docker0", up, []net.Addr{ipnet("172.17.0.1/16")}},
		{"wlan0", up, []net.Addr{ipnet("fe80::1c2a:3bff:fe4d:5e6f/64"), ipnet("2001:db8::42/64"), ipnet("192.168.1.20/24")}},
		{"eth0", net.FlagBroadcast, []net.Addr{ipnet("10.0.0.5/24")}},
	}
}

func TestListenerNamesAddressesOthersCanType(t *testing.T) {
	offline := func() []iface { return laptop()[:1] }
	for _, c := range []struct {
		name, listen, public string
		interfaces           func() []iface
		want                 Reach
	}{
		{"bound everywhere", "[::]:2222", "", laptop,
			Reach{Hosts: []string{"192.168.1.20", "2001:db8::42", "172.17.0.1"}, Port: "2222"}},
		{"bound everywhere, IPv4", "0.0.0.0:4010", "", laptop,
			Reach{Hosts: []string{"192.168.1.20", "2001:db8::42", "172.17.0.1"}, Port: "4010"}},
		{"published address", "[::]:2222", "http://laptop.local:4010", laptop,
			Reach{Hosts: []string{"laptop.local"}, Port: "2222"}},
		{"loopback wins over the published address", "127.0.0.1:2222", "http://laptop.local:4010", laptop,
			Reach{Hosts: []string{"127.0.0.1"}, Port: "2222", ThisMachineOnly: true}},
		{"IPv6 loopback", "[::1]:2222", "", laptop,
			Reach{Hosts: []string{"::1"}, Port: "2222", ThisMachineOnly: true}},
		{"one address", "192.168.1.20:2222", "", laptop,
			Reach{Hosts: []string{"192.168.1.20"}, Port: "2222"}},
		{"no network", "[::]:2222", "", offline,
			Reach{Hosts: []string{"127.0.0.1"}, Port: "2222", ThisMachineOnly: true}},
	} {
		t.Run(c.name, func(t *testing.T) {
			addr, err := net.ResolveTCPAddr("tcp", c.listen)
			if err != nil {
				t.Fatal(err)
			}
			if got := listener(addr, c.public, c.interfaces); !reflect.DeepEqual(got, c.want) {
				t.Fatalf("got %+v, want %+v", got, c.want)
			}
		})
	}
}

func TestURLsBracketIPv6(t *testing.T) {
	r := Reach{Hosts: []string{"192.168.1.20", "2001:db8::42"}, Port: "4010"}
	want := []string{"http://192.168.1.20:4010", "http://[2001:db8::42]:4010"}
	if got := r.URLs(); !reflect.DeepEqual(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func TestListenerOnThisMachine(t *testing.T) {
	ln, err := net.Listen("tcp", ":0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	r := Listener(ln.Addr(), "")
	for _, h := range r.Hosts {
		if ip := net.ParseIP(h); ip == nil || ip.IsUnspecified() || (ip.IsLoopback() != r.ThisMachineOnly) {
			t.Errorf("host %q in %+v", h, r)
		}
	}
	if len(r.Hosts) == 0 {
		t.Fatalf("no host: %+v", r)
	}
}
