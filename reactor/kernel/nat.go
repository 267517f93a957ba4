package kernel

import (
	"fmt"
	"net/netip"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"
)

// NATTable is the name of the daemon's nftables tables (one of family ip,
// one of family ip6); nothing else of the ruleset is touched.
const NATTable = "mvirt_net"

// NAT is what to masquerade: packets from the public prefixes leaving
// through Iface get Iface's address as their source.
type NAT struct {
	// Iface is the host's outside interface; "" masquerades nothing.
	Iface string
	// IPv6 masquerades IPv6 too; otherwise IPv6 stays routed.
	IPv6 bool
}

// SyncNAT replaces the daemon's tables whole, in one transaction: a
// postrouting NAT chain with one masquerade rule per public prefix of a
// family that nat covers. A nat without Iface removes the tables.
func SyncNAT(nat NAT, public []netip.Prefix) error {
	c, err := nftables.New()
	if err != nil {
		return fmt.Errorf("nftables: %w", err)
	}
	for _, fam := range []nftables.TableFamily{nftables.TableFamilyIPv4, nftables.TableFamilyIPv6} {
		t := &nftables.Table{Name: NATTable, Family: fam}
		// Adding first makes the delete succeed whether or not the
		// table existed; the transaction is atomic.
		c.AddTable(t)
		c.DelTable(t)
		if nat.Iface == "" || (fam == nftables.TableFamilyIPv6 && !nat.IPv6) {
			continue
		}
		c.AddTable(t)
		ch := c.AddChain(&nftables.Chain{
			Name: "postrouting", Table: t, Type: nftables.ChainTypeNAT,
			Hooknum: nftables.ChainHookPostrouting, Priority: nftables.ChainPriorityNATSource,
		})
		for _, p := range public {
			if p.Addr().Is4() != (fam == nftables.TableFamilyIPv4) {
				continue
			}
			c.AddRule(&nftables.Rule{Table: t, Chain: ch, Exprs: masquerade(nat.Iface, p)})
		}
	}
	if err := c.Flush(); err != nil {
		return fmt.Errorf("nftables table %s: %w", NATTable, err)
	}
	return nil
}

// masquerade is `oifname IFACE ip[6] saddr P masquerade`.
func masquerade(iface string, p netip.Prefix) []expr.Any {
	name := make([]byte, unix.IFNAMSIZ)
	copy(name, iface)
	p = p.Masked()
	off, n := uint32(12), uint32(4)
	if p.Addr().Is6() {
		off, n = 8, 16
	}
	mask := make([]byte, n)
	for i := range p.Bits() {
		mask[i/8] |= 0x80 >> (i % 8)
	}
	return []expr.Any{
		&expr.Meta{Key: expr.MetaKeyOIFNAME, Register: 1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: name},
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: off, Len: n},
		&expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: n, Mask: mask, Xor: make([]byte, n)},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: p.Addr().AsSlice()},
		&expr.Masq{},
	}
}
