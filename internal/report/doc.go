// Package report turns the drop counts that dropmon's program keeps in a map
// into reports: it remembers the previous counts so that each report gives
// the drops of its interval beside the totals since start, groups them by
// location, reason or both, and renders the top rows as a table or as a
// line of JSON (RenderJSON, whose field names are stable). Counts keyed
// by call chain too (Key.Stack, --stacks) fold into one row per location
// and reason, with the row's busiest chains under it. It knows
// nothing of rings or engines: it reads counts, as ARCHITECTURE.md asks.
package report
