package keys

import "time"

// SetClock sets the clock cache expiry is measured with.
func (k *Keyring) SetClock(now func() time.Time) { k.now = now }
