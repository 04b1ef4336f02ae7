package ghapi

import "context"

// BotLogin returns the login the App acts as on GitHub ("<slug>[bot]"):
// the author of the pull requests, comments and commits it makes.
func (c *Client) BotLogin(ctx context.Context) (string, error) { return c.bot(ctx) }
