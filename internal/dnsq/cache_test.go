package dnsq

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

func TestCacheKeepsFactsForTheirTTL(t *testing.T) {
	c := NewCache(10)
	now := time.Date(2026, 12, 4, 22, 0, 0, 0, time.UTC)
	c.Put(Facts{Domain: "army.ml", Status: Registered, MX: []MX{{"mx.farm.example", 10}}, TTL: time.Minute}, now)
	c.Put(Facts{Domain: "bank-army.ml", Status: NotRegistered, TTL: 30 * time.Second}, now)
	c.Put(Facts{Domain: "slow.example", Status: Unknown, Err: errors.New("timeout"), TTL: time.Hour}, now)
	c.Put(Facts{Domain: "zero.example", Status: Registered}, now)

	if f, ok := c.Get("ARMY.ml.", now.Add(20*time.Second)); !ok || len(f.MX) != 1 || f.TTL != 40*time.Second {
		t.Errorf("Get(army.ml) after 20s = %+v, %v; want the MX with 40s left", f, ok)
	}
	if f, ok := c.Get("bank-army.ml", now.Add(29*time.Second)); !ok || f.Status != NotRegistered {
		t.Errorf("Get(bank-army.ml) after 29s = %+v, %v; want the negative answer", f, ok)
	}
	if _, ok := c.Get("bank-army.ml", now.Add(30*time.Second)); ok {
		t.Error("a negative answer outlived its TTL")
	}
	if _, ok := c.Get("army.ml", now.Add(time.Minute)); ok {
		t.Error("facts outlived their TTL")
	}
	if _, ok := c.Get("slow.example", now); ok {
		t.Error("an Unknown result was cached")
	}
	if _, ok := c.Get("zero.example", now); ok {
		t.Error("facts without a TTL were cached")
	}
	if n := c.Len(); n != 0 {
		t.Errorf("%d entries left after all expired", n)
	}
}

func TestCacheEvictsTheLeastRecentlyUsed(t *testing.T) {
	c := NewCache(3)
	now := time.Unix(1_800_000_000, 0)
	for i := range 3 {
		c.Put(Facts{Domain: fmt.Sprintf("d%d.example", i), Status: NotRegistered, TTL: time.Hour}, now)
	}
	c.Get("d0.example", now) // d1 is now the least recently used
	c.Put(Facts{Domain: "d3.example", Status: NotRegistered, TTL: time.Hour}, now)
	if _, ok := c.Get("d1.example", now); ok {
		t.Error("d1 kept: the least recently used should have gone")
	}
	for _, d := range []string{"d0.example", "d2.example", "d3.example"} {
		if _, ok := c.Get(d, now); !ok {
			t.Errorf("%s evicted", d)
		}
	}
	if n := c.Len(); n != 3 {
		t.Errorf("%d entries, want the bound 3", n)
	}
	// Putting a domain again replaces it without growing.
	c.Put(Facts{Domain: "d3.example", Status: Registered, TTL: time.Hour}, now)
	if f, _ := c.Get("d3.example", now); f.Status != Registered || c.Len() != 3 {
		t.Errorf("replaced entry %+v, %d entries", f, c.Len())
	}
	z := NewCache(0)
	z.Put(Facts{Domain: "a.example", Status: NotRegistered, TTL: time.Hour}, now)
	if z.Len() != 0 {
		t.Error("a cache of 0 kept something")
	}
}

func TestCacheCopiesTheLists(t *testing.T) {
	c := NewCache(1)
	now := time.Unix(1_800_000_000, 0)
	f := Facts{Domain: "a.example", Status: Registered, NS: []string{"ns.example"}, TTL: time.Hour}
	c.Put(f, now)
	f.NS[0] = "changed.example"
	if got, _ := c.Get("a.example", now); got.NS[0] != "ns.example" {
		t.Errorf("the cache shares the caller's list: %v", got.NS)
	}
}

func TestCacheConcurrent(t *testing.T) {
	c := NewCache(50)
	now := time.Unix(1_800_000_000, 0)
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Go(func() {
			for i := range 500 {
				d := fmt.Sprintf("d%d.example", (g*7+i)%100)
				c.Put(Facts{Domain: d, Status: NotRegistered, TTL: time.Minute}, now)
				c.Get(d, now.Add(time.Duration(i)*time.Millisecond))
			}
		})
	}
	wg.Wait()
	if n := c.Len(); n > 50 {
		t.Errorf("%d entries over the bound 50", n)
	}
}
