// Package engine is the engine layer of the lcr runtime family: an engine is a named set of container
// operations on one low-level technology (iSulad's engine_operation), loaded at corrald start. The lcr
// engine, driving stock LXC through its tools, arrives with the lcr family; until then runtime/lcr
// reports the family as unavailable.
package engine
