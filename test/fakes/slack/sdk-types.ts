// Reads the argument types of the pinned @slack/web-api with the TypeScript compiler, so a test can prove that the
// fake's table of differences (description.ts, TYPE_DIFFERENCES) is exactly what separates the 2020 description
// from the types. Only tests import this: building the program takes a second or two.
import path from 'node:path';
import ts from 'typescript';
import type { ArgType } from './description.ts';

export interface SdkParam {
  name: string;
  type: ArgType;
  /** Required in every variant of the argument type (e.g. `channel`); `text` is not, since `blocks` may replace it. */
  required: boolean;
}

/** The argument type that `@slack/web-api` 8.2.0 declares for each modelled method. */
export const ARGUMENT_TYPES: Record<string, string> = {
  'auth.test': 'AuthTestArguments',
  'auth.revoke': 'AuthRevokeArguments',
  'oauth.v2.access': 'OAuthV2AccessArguments',
  'chat.postMessage': 'ChatPostMessageArguments',
  'chat.update': 'ChatUpdateArguments',
  'chat.delete': 'ChatDeleteArguments',
  'chat.postEphemeral': 'ChatPostEphemeralArguments',
  'chat.getPermalink': 'ChatGetPermalinkArguments',
  'views.open': 'ViewsOpenArguments',
  'views.update': 'ViewsUpdateArguments',
  'views.publish': 'ViewsPublishArguments',
  'users.lookupByEmail': 'UsersLookupByEmailArguments',
  'users.info': 'UsersInfoArguments',
  'conversations.list': 'ConversationsListArguments',
  'conversations.info': 'ConversationsInfoArguments',
  'conversations.join': 'ConversationsJoinArguments',
  'conversations.history': 'ConversationsHistoryArguments',
  'conversations.replies': 'ConversationsRepliesArguments',
  'conversations.open': 'ConversationsOpenArguments',
  'team.info': 'TeamInfoArguments',
};

function argType(checker: ts.TypeChecker, type: ts.Type): ArgType {
  const nonNull = checker.getNonNullableType(type);
  if (nonNull.isUnion()) {
    const kinds = new Set(nonNull.types.map((t) => argType(checker, t)));
    if (kinds.size === 1) return [...kinds][0] as ArgType;
    if (kinds.has('json-array')) return 'json-array';
    if (kinds.has('number') && kinds.has('string')) return 'string';
    return 'string';
  }
  if (nonNull.flags & (ts.TypeFlags.StringLike | ts.TypeFlags.StringLiteral)) return 'string';
  if (nonNull.flags & (ts.TypeFlags.BooleanLike | ts.TypeFlags.BooleanLiteral)) return 'boolean';
  if (nonNull.flags & (ts.TypeFlags.NumberLike | ts.TypeFlags.NumberLiteral)) return 'number';
  if (checker.isArrayType(nonNull) || checker.isTupleType(nonNull)) return 'json-array';
  return 'json-object';
}

/** Every argument of each modelled method, as the SDK's types declare it (`token` left out: it is the credential). */
export function sdkArguments(): Map<string, Map<string, SdkParam>> {
  const root = path.resolve(import.meta.dirname, '..', '..', '..');
  const probe = path.join(root, 'test', 'fakes', 'slack', '__sdk_probe__.ts');
  const names = Object.values(ARGUMENT_TYPES);
  const source = `import type { ${names.join(', ')} } from '@slack/web-api';\n${names
    .map((n) => `export type P_${n} = ${n};`)
    .join('\n')}\n`;
  const options: ts.CompilerOptions = {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    types: [],
  };
  const host = ts.createCompilerHost(options);
  const readFile = host.readFile.bind(host);
  const fileExists = host.fileExists.bind(host);
  host.readFile = (file) => (path.resolve(file) === probe ? source : readFile(file));
  host.fileExists = (file) => path.resolve(file) === probe || fileExists(file);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (file, lang, onError) =>
    path.resolve(file) === probe ? ts.createSourceFile(file, source, lang) : getSourceFile(file, lang, onError);
  const program = ts.createProgram([probe], options, host);
  const checker = program.getTypeChecker();
  const file = program.getSourceFile(probe);
  if (!file) throw new Error('probe not compiled');
  const aliases = new Map<string, ts.Type>();
  ts.forEachChild(file, (node) => {
    if (ts.isTypeAliasDeclaration(node)) aliases.set(node.name.text.slice(2), checker.getTypeAtLocation(node.name));
  });
  const result = new Map<string, Map<string, SdkParam>>();
  for (const [method, typeName] of Object.entries(ARGUMENT_TYPES)) {
    const type = aliases.get(typeName);
    if (!type) throw new Error(`no type ${typeName}`);
    const nonNull = checker.getNonNullableType(type);
    const variants = nonNull.isUnion() ? nonNull.types : [nonNull];
    const params = new Map<string, SdkParam>();
    const requiredIn = new Map<string, number>();
    for (const variant of variants) {
      for (const symbol of checker.getPropertiesOfType(variant)) {
        const propType = checker.getTypeOfSymbol(symbol);
        // `icon_url?: never` marks an argument as forbidden in this variant, not as an argument.
        if (checker.getNonNullableType(propType).flags & ts.TypeFlags.Never) continue;
        if (symbol.name === 'token') continue;
        const optional = (symbol.flags & ts.SymbolFlags.Optional) !== 0;
        if (!optional) requiredIn.set(symbol.name, (requiredIn.get(symbol.name) ?? 0) + 1);
        const existing = params.get(symbol.name);
        const typeOfParam = argType(checker, propType);
        if (!existing) params.set(symbol.name, { name: symbol.name, type: typeOfParam, required: false });
        else if (existing.type !== typeOfParam && typeOfParam === 'json-object') existing.type = typeOfParam;
      }
    }
    for (const param of params.values()) param.required = requiredIn.get(param.name) === variants.length;
    result.set(method, params);
  }
  return result;
}
