// The program's commands as `cvs-issue --help` lists them. The top level reads only this table, so
// the help and a command's own start never load the other commands' modules (and their drivers);
// each command's module takes its description from here, so the two cannot drift apart.

export const COMMANDS = {
  init: { term: 'init [options]', description: 'create a ready deployment: PKI, test cards, databases and a config file' },
  demo: { term: 'demo [options]', description: 'run the whole service on embedded defaults and print a summary' },
  kiosk: { term: 'kiosk', description: 'a kiosk terminal in a store' },
  relay: { term: 'relay', description: "the operator's DMZ relay between kiosks and the centre" },
  center: { term: 'center', description: 'the national certificate issuance centre' },
  reconcile: { term: 'reconcile [options]', description: "match the centre's and the operator's records for a month" },
  invoice: { term: 'invoice [options]', description: 'settle a month: fees, commission, deadlines, interest' },
  'audit-log': { term: 'audit-log', description: "show, verify, prove, export and witness any role's tamper-evident audit log" },
  municipality: { term: 'municipality', description: "a municipality's own system: the reference back end the centre asks for its residents" },
  'verify-document': { term: 'verify-document [options] <file>', description: 'check a printed certificate copy: genuine, void, altered or unknown' },
  simulate: { term: 'simulate [options]', description: 'a deterministic fault simulation of kiosks, relays and centre in one process, from a seed' },
} as const;

export type CommandName = keyof typeof COMMANDS;

export function isCommandName(name: string | undefined): name is CommandName {
  return name !== undefined && Object.hasOwn(COMMANDS, name);
}
