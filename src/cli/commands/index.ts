// Registry of subcommands, in the order --help lists them.
import type { Command } from '../command.js';
import { cacheCommand } from './cache.js';
import { checkServerCommand } from './check-server.js';
import { injectCommand } from './inject.js';
import { demoCommand } from './demo.js';
import { discoverCommand } from './discover.js';
import { explainCommand } from './explain.js';
import { pingCommand } from './ping.js';
import { traceCommand } from './trace.js';

export const commands: Command[] = [discoverCommand, traceCommand, explainCommand, pingCommand, cacheCommand, injectCommand, checkServerCommand, demoCommand];
