// wampgate's version and the agent string it announces (WELCOME.Details.agent, HELLO, the
// status page). One place, so the router, the CLI and ops never disagree; a unit test holds it
// equal to package.json's version.

export const VERSION = '0.1.0';

/** WELCOME.Details.agent / HELLO.Details.agent (spec "Agent Identification"). */
export const AGENT = `wampgate-${VERSION}`;
