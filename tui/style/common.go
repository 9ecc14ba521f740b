package style

import (
	"context"
	"time"
)

// Common is what the panes of one program share, as soft-serve's common
// context is: the context that bounds their background work, the styles,
// the key map and the clock. Panes hold a pointer to one Common, so when
// the host restyles (the terminal reported it has no colour) every pane
// draws with the new styles at once.
type Common struct {
	Context context.Context
	Styles  *Styles
	Keys    *DemoKeyMap
	Clock   func() time.Time
}
