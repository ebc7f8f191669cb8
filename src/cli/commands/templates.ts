/** `learnloop templates list|register`: directly on --db. */
import { Option, type Command } from 'commander';
import type { ArmStatus, TemplateRecord } from '../../bandit/index.js';
import { commaList, print, withApp, withCreate, withSettings } from '../context.js';
import { table } from '../format.js';

export function registerTemplates(program: Command): void {
  const templates = program.command('templates').description('list or register templates (directly on --db)');
  withSettings(templates.command('list').description('list templates'), ['db'])
    .option('--json', 'print JSON')
    .action(async (opts) => {
      const list = await withApp(opts, (app) => app.learnloop.listTemplates());
      print(opts.json === true, list, () =>
        table(
          ['template', 'status', 'parent', 'task classes', 'implicit', 'registered'],
          list.map((t) => [t.templateId, t.status, t.parentTemplateId, scopeOf(t), t.implicit ? 'yes' : '', new Date(t.registeredAtMs).toISOString()]),
        ),
      );
    });
  withCreate(withSettings(templates.command('register <templateId>').description('register a template version'), ['db']))
    .option('--parent <id>', 'the version it refines (inherits discounted evidence)', '')
    .addOption(
      new Option('--status <status>', 'lifecycle status (default: active for a new template; a registered one keeps its status)').choices(['active', 'candidate', 'retired']),
    )
    .option('--description <text>', 'what changed (a registered template keeps its description when this is left out)', '')
    .option(
      '--task-class <classes>',
      'task classes it is for, comma-separated or repeated; recommend without --candidates offers it only for these (default: the parent\'s, else every class; a registered template keeps its own)',
      (v: string, prior: string[]) => [...prior, ...commaList(v)],
      [] as string[],
    )
    .option('--json', 'print JSON')
    .action(async (templateId: string, opts) => {
      const r = await withApp(opts, (app) =>
        app.learnloop.registerTemplate({
          templateId,
          parentTemplateId: opts.parent,
          status: opts.status as ArmStatus | undefined,
          description: opts.description,
          taskClasses: opts.taskClass as string[],
        }),
      );
      const scope = r.record.taskClasses === undefined ? '' : ` for ${scopeOf(r.record)}`;
      print(opts.json === true, r, () => `${r.created ? 'registered' : 'updated'} ${templateId} (${r.record.status})${scope}`);
    });
}

/** A template's task classes as the listings show them. */
const scopeOf = (t: TemplateRecord): string => (t.taskClasses === undefined ? 'every class' : t.taskClasses.join(','));
