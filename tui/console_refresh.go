package tui

import (
	"context"
	"errors"

	tea "charm.land/bubbletea/v2"

	"github.com/pushsim/pushsim/device/verifyclient"
)

// refresh reloads the live lists, one reload at a time: asking while one
// is in flight runs another when it lands, so nothing is missed.
func (c *console) refresh() tea.Cmd {
	if c.refreshing {
		c.refreshAgain = true
		return nil
	}
	c.refreshing = true
	client, user, parent := c.client, c.user, c.ctx
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(parent, requestTimeout)
		defer cancel()
		var msg consoleRefreshedMsg
		var errs [3]error
		msg.factors, errs[0] = client.listFactors(ctx, user, true)
		msg.challenges, errs[1] = client.listChallenges(ctx, user)
		msg.events, errs[2] = client.webhookEvents(ctx, true)
		msg.err = errors.Join(errs[:]...)
		return msg
	}
}

// refreshed stores the lists and reports challenges the backend has
// withdrawn since the last look.
func (c *console) refreshed(msg consoleRefreshedMsg) tea.Cmd {
	c.refreshing = false
	var again tea.Cmd
	if c.refreshAgain {
		c.refreshAgain = false
		again = c.refresh()
	}
	c.offline = msg.err
	if msg.err != nil {
		return again
	}
	c.factors, c.challenges, c.events, c.loaded = msg.factors, msg.challenges, msg.events, true
	c.follow()
	var withdrawn []string
	for _, ch := range c.challenges {
		if ch.Status == verifyclient.ChallengeExpired && ch.RespondedReason == respondedNotNeeded && !c.withdrawn[ch.Sid] {
			c.withdrawn[ch.Sid] = true
			withdrawn = append(withdrawn, ch.Sid)
		}
	}
	if len(withdrawn) > 0 {
		return tea.Batch(again, cmdOf(withdrawnMsg{challengeSids: withdrawn}))
	}
	return again
}

// loadHash asks the sample backend what it sends Verify for the user.
func (c *console) loadHash() tea.Cmd {
	client, user, parent := c.client, c.user, c.ctx
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(parent, requestTimeout)
		defer cancel()
		hashed, err := client.hashIdentity(ctx, user)
		return consoleHashedMsg{hashed: hashed, err: err}
	}
}
