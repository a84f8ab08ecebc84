/**
 * `skiff completion bash|zsh|fish`: a shell completion script, as kubectl completion prints one —
 * verbs, kinds, object names (asked from the master with `skiff get KIND -o custom-columns=...`),
 * namespaces after -n, contexts after `config use-context`. Written from the same verb and kind
 * registries the CLI runs on, so it lists what this skiff has.
 */
import { SkiffError, kinds, type KindInfo } from '../../protocol/index.js';
import type { Command } from '../args.js';

/** Verbs whose first argument is a kind (then names). */
const kindVerbs = ['get', 'describe', 'delete', 'edit', 'label', 'annotate', 'explain', 'wait', 'scale', 'expose', 'rollout', 'set', 'taint', 'autoscale'];

function kindWords(): string {
  return (Object.values(kinds) as KindInfo[]).flatMap((k) => [k.plural, ...k.short]).sort().join(' ');
}

function bash(verbs: string[]): string {
  return `# bash completion for skiff (skiff completion bash)
# Load it now:          source <(skiff completion bash)
# Or for every shell:   skiff completion bash > /etc/bash_completion.d/skiff
__skiff_names() {
  skiff get "$1" $__skiff_ns -o custom-columns=:metadata.name --no-headers 2>/dev/null
}
_skiff() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" prev="\${COMP_WORDS[COMP_CWORD-1]}"
  local verbs="${verbs.join(' ')}"
  local kinds="all ${kindWords()}"
  local verb="" kind="" i w __skiff_ns=""
  for ((i=1; i<COMP_CWORD; i++)); do
    w="\${COMP_WORDS[i]}"
    case "$w" in
      -n|--namespace) __skiff_ns="-n \${COMP_WORDS[i+1]}"; i=$((i+1)); continue;;
      -*) continue;;
    esac
    if [[ -z "$verb" ]]; then verb="$w"; elif [[ -z "$kind" ]]; then kind="$w"; fi
  done
  case "$prev" in
    -n|--namespace) COMPREPLY=($(compgen -W "$(__skiff_names namespaces)" -- "$cur")); return;;
    --context) COMPREPLY=($(compgen -W "$(skiff config get-contexts -o name 2>/dev/null)" -- "$cur")); return;;
  esac
  if [[ -z "$verb" ]]; then COMPREPLY=($(compgen -W "$verbs" -- "$cur")); return; fi
  case "$verb" in
    ${kindVerbs.join('|')})
      if [[ "$verb" == rollout && -z "$kind" ]]; then COMPREPLY=($(compgen -W "status history undo restart pause resume" -- "$cur")); return; fi
      if [[ "$verb" == set && -z "$kind" ]]; then COMPREPLY=($(compgen -W "image env resources" -- "$cur")); return; fi
      if [[ -z "$kind" ]]; then COMPREPLY=($(compgen -W "$kinds" -- "$cur")); else COMPREPLY=($(compgen -W "$(__skiff_names "$kind")" -- "$cur")); fi;;
    logs|exec|port-forward|cp|attach) COMPREPLY=($(compgen -W "$(__skiff_names pods)" -- "$cur"));;
    cordon|uncordon|drain|top) COMPREPLY=($(compgen -W "$(__skiff_names nodes) nodes pods" -- "$cur"));;
    config) COMPREPLY=($(compgen -W "get-contexts current-context use-context set-context set-cluster set-credentials delete-context view $(skiff config get-contexts -o name 2>/dev/null)" -- "$cur"));;
    create) COMPREPLY=($(compgen -W "configmap secret namespace deployment job" -- "$cur"));;
    completion) COMPREPLY=($(compgen -W "bash zsh fish" -- "$cur"));;
    *) COMPREPLY=($(compgen -f -- "$cur"));;
  esac
}
complete -o default -F _skiff skiff
`;
}

function zsh(verbs: string[]): string {
  return `#compdef skiff
# zsh completion for skiff (skiff completion zsh): the bash completion through zsh's bashcompinit.
# Load it now:   source <(skiff completion zsh)
autoload -U +X compinit && compinit
autoload -U +X bashcompinit && bashcompinit
${bash(verbs)}`;
}

function fish(verbs: string[]): string {
  return `# fish completion for skiff (skiff completion fish)
# Load it now:   skiff completion fish | source
# Or for good:   skiff completion fish > ~/.config/fish/completions/skiff.fish
function __skiff_names
    skiff get $argv[1] -o custom-columns=:metadata.name --no-headers 2>/dev/null
end
function __skiff_kind
    set -l words (commandline -opc)
    set -e words[1]
    for w in $words
        string match -q -- '-*' $w; and continue
        set -q seen_verb; and echo $w; and return
        set seen_verb 1
    end
end
complete -c skiff -f
complete -c skiff -n '__fish_use_subcommand' -a '${verbs.join(' ')}'
complete -c skiff -n '__fish_seen_subcommand_from ${kindVerbs.join(' ')}; and test -z (__skiff_kind)' -a 'all ${kindWords()}'
complete -c skiff -n '__fish_seen_subcommand_from ${kindVerbs.join(' ')}; and test -n (__skiff_kind)' -a '(__skiff_names (__skiff_kind))'
complete -c skiff -n '__fish_seen_subcommand_from logs exec port-forward cp' -a '(__skiff_names pods)'
complete -c skiff -n '__fish_seen_subcommand_from cordon uncordon drain' -a '(__skiff_names nodes)'
complete -c skiff -n '__fish_seen_subcommand_from config' -a 'get-contexts current-context use-context set-context set-cluster set-credentials delete-context view (skiff config get-contexts -o name 2>/dev/null)'
complete -c skiff -n '__fish_seen_subcommand_from completion' -a 'bash zsh fish'
complete -c skiff -s n -l namespace -x -a '(__skiff_names namespaces)'
complete -c skiff -l context -x -a '(skiff config get-contexts -o name 2>/dev/null)'
`;
}

const shells = { bash, zsh, fish };

/** The completion verb; `verbs` is filled in by main.ts (the registry imports this file). */
export function completionCommand(verbs: () => string[]): Command {
  return {
    summary: 'print a shell completion script: bash, zsh or fish',
    usage: `Usage:
  skiff completion bash|zsh|fish

Examples:
  source <(skiff completion bash)
  skiff completion fish > ~/.config/fish/completions/skiff.fish
`,
    options: {},
    async run(ctx, _values, [shell]) {
      if (!shell || !Object.hasOwn(shells, shell)) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `skiff completion: ${shell ? `unsupported shell type "${shell}"` : 'a shell is required'}; shells: bash, zsh, fish`);
      ctx.io.stdout(shells[shell as keyof typeof shells](verbs()));
      return 0;
    },
  };
}
