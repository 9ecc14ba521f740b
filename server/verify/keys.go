package verify

import (
	"crypto/ecdsa"
	"sync"
)

// keyCache keeps factors' public keys parsed. Every device request and
// every answer checks a signature with the factor's key; decoding and
// validating the PKIX point each time cost as much as a quarter of the
// check. The cache is keyed by the stored encoding itself, so a factor
// whose key changed can never be checked against the old one.
type keyCache struct {
	mu   sync.RWMutex
	keys map[string]*ecdsa.PublicKey
}

// maxCachedKeys bounds the cache; when full it starts over, which costs a
// parse per key again and nothing else.
const maxCachedKeys = 100_000

func (c *keyCache) publicKey(encoded string) (*ecdsa.PublicKey, error) {
	c.mu.RLock()
	k := c.keys[encoded]
	c.mu.RUnlock()
	if k != nil {
		return k, nil
	}
	k, err := ParsePublicKey(encoded)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.keys == nil || len(c.keys) >= maxCachedKeys {
		c.keys = make(map[string]*ecdsa.PublicKey)
	}
	c.keys[encoded] = k
	c.mu.Unlock()
	return k, nil
}
