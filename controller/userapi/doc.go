// Package userapi is the requester's side of GitHub: the REST calls the jit
// commands make as the user (never as the App), with the user's own token,
// and the git commands they run in the user's clone of the access
// repository.
//
// The token comes from GITHUB_TOKEN or GH_TOKEN only, never from a flag
// (flags leak into shell history and ps). The repository's owner/name comes
// from the clone's origin remote unless given. Git commands never touch the
// user's working tree, index or current branch: commits are built in a
// temporary index and pushed by hash. The token is handed to git only for
// an origin on the API's own host (GitHub's github.com for api.github.com),
// through the environment, so that no other server ever sees it, and never
// over plain http except to this machine (127.0.0.0/8, ::1, localhost, where
// the emulator of jit dev listens): the API URL and an origin on its host
// must otherwise be https.
package userapi
