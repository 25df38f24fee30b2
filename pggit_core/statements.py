"""Proposed SQL statements parsed into what each touches and how (the only module that imports sqlglot)."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from enum import StrEnum

import sqlglot
from sqlglot import exp
from sqlglot.dialects.dialect import Dialect
from sqlglot.errors import ParseError, TokenError
from sqlglot.tokenizer_core import Token, TokenType

from pggit_core.errors import InvalidSQL

# sqlglot logs "contains unsupported syntax. Falling back to parsing as a 'Command'" for every statement it
# does not model; we handle those ourselves (UNKNOWN footprints), so the log line is noise.
logging.getLogger("sqlglot").setLevel(logging.ERROR)

DEFAULT_SCHEMA = "public"
_DIALECT = Dialect.get_or_raise("postgres")


class Kind(StrEnum):
    """What sort of object a statement touches."""

    TABLE = "table"
    COLUMN = "column"
    INDEX = "index"
    CONSTRAINT = "constraint"
    FUNCTION = "function"
    VIEW = "view"
    TYPE = "type"
    SEQUENCE = "sequence"
    TRIGGER = "trigger"
    POLICY = "policy"
    SCHEMA = "schema"
    EXTENSION = "extension"


class Action(StrEnum):
    """How a statement touches an object. UNKNOWN: the parser does not model the statement."""

    CREATE = "create"
    ALTER = "alter"
    DROP = "drop"
    RENAME = "rename"
    RETYPE = "retype"
    REFERENCE = "reference"
    DATA = "data"
    UNKNOWN = "unknown"


@dataclass(frozen=True, order=True)
class Touch:
    """One object a statement touches. ``table`` is the owning relation of a column, index, constraint,
    trigger or policy; ``columns`` are the columns an index or constraint is on."""

    kind: Kind
    schema: str
    name: str
    action: Action
    table: str | None = None
    columns: tuple[str, ...] = ()
    detail: str = ""


@dataclass(frozen=True)
class Statement:
    """One proposed statement: its text, its command (``ALTER TABLE``), and what it touches.
    ``modelled`` is False when sqlglot does not model it (its touches are then UNKNOWN)."""

    index: int
    text: str
    command: str
    modelled: bool
    touches: tuple[Touch, ...]

    runs_query: bool = False
    concurrently: bool = False

    @property
    def executable(self) -> bool:
        """Safe to run in a rolled-back dry run: modelled DDL that runs no query (no DO blocks, no data
        changes, no CREATE TABLE AS / materialized views) and may run in a transaction (not CONCURRENTLY)."""
        return (self.modelled and not self.runs_query and not self.concurrently
                and self.command.split(" ")[0] in {"CREATE", "ALTER", "DROP", "COMMENT"})


# ---------------------------------------------------------------------------------------------- splitting


def split(text: str) -> list[str]:
    """Split SQL text into statements on top-level semicolons (quotes and dollar quotes respected)."""
    try:
        tokens = _DIALECT.tokenize(text)
    except TokenError as exc:
        raise InvalidSQL(f"the SQL does not tokenize: {exc}", hint="check quotes and dollar quotes",
                         sql=text) from exc
    pieces: list[str] = []
    start = 0
    for token in tokens:
        if token.token_type == TokenType.SEMICOLON:
            pieces.append(text[start:token.start])
            start = token.end + 1
    pieces.append(text[start:])
    return [p.strip() for p in pieces if p.strip()]


def parse(changes: list[str]) -> list[Statement]:
    """Every statement of ``changes`` with what it touches; InvalidSQL (nothing else) for bad input."""
    statements: list[Statement] = []
    for entry in changes:
        for text in split(entry):
            statements.append(parse_one(text, len(statements)))
    if not statements:
        raise InvalidSQL("no statements given", hint="pass at least one schema change, e.g. "
                         "\"ALTER TABLE users ADD COLUMN x TEXT\"")
    return statements


def parse_one(text: str, index: int = 0) -> Statement:
    """Parse one statement (no top-level semicolons) into a Statement."""
    if re.match(r"\s*SECURITY\s+LABEL\b", text, re.IGNORECASE):
        return _command(text, index)
    try:
        tree = sqlglot.parse_one(text, read="postgres")
    except ParseError as exc:
        first = exc.errors[0] if exc.errors else {}
        where = f" at line {first.get('line')}, column {first.get('col')}" if first else ""
        message = str(first.get("description") or exc).split("<Token")[0].strip()
        raise InvalidSQL(f"statement {index + 1} does not parse{where}: {message}",
                         hint="fix the SQL; nothing was recorded", statement=text) from exc
    if isinstance(tree, exp.Command):
        return _command(text, index)
    touches = _modelled(tree, text, index)
    runs_query = isinstance(tree, exp.Create) and isinstance(tree.expression, exp.Query) and (
        str(tree.args.get("kind") or "").upper() != "VIEW" or _is_materialized(tree))
    return Statement(index, text, _command_name(tree), True, tuple(sorted(set(touches))), runs_query,
                     bool(tree.args.get("concurrently")))


# ---------------------------------------------------------------------------------------------- names


def _ident(node: exp.Expr | None) -> str:
    if node is None:
        return ""
    if isinstance(node, exp.Identifier):
        return str(node.this) if node.quoted else str(node.this).lower()
    if isinstance(node, exp.Column | exp.Table):
        return _ident(node.this)
    if isinstance(node, exp.Expr) and isinstance(node.this, exp.Expr):
        return _ident(node.this)
    return str(node.name).lower()


def _qualified(table: exp.Expr) -> tuple[str, str]:
    """(schema, name) of a table node; the schema defaults to public."""
    if isinstance(table, exp.Schema):
        table = table.this
    schema = _ident(table.args.get("db")) if isinstance(table, exp.Table) and table.args.get("db") else ""
    return schema or DEFAULT_SCHEMA, _ident(table)


def _command_name(tree: exp.Expr) -> str:
    if isinstance(tree, exp.Create | exp.Alter | exp.Drop | exp.Comment):
        verb = type(tree).__name__.upper()
        kind = str(tree.args.get("kind") or "").upper()
        if kind == "VIEW" and _is_materialized(tree):
            kind = "MATERIALIZED VIEW"
        return f"{verb} {kind}".strip()
    names = {exp.Insert: "INSERT", exp.Update: "UPDATE", exp.Delete: "DELETE", exp.TruncateTable: "TRUNCATE",
             exp.Grant: "GRANT", exp.Revoke: "REVOKE"}
    for cls, name in names.items():
        if isinstance(tree, cls):
            return name
    return type(tree).__name__.upper()


def _is_materialized(tree: exp.Expr) -> bool:
    props = tree.args.get("properties")
    if isinstance(props, exp.Properties) and any(isinstance(p, exp.MaterializedProperty)
                                                 for p in props.expressions):
        return True
    return bool(tree.args.get("materialized"))


# ---------------------------------------------------------------------------------------------- modelled


def _refused(text: str, index: int, why: str) -> InvalidSQL:
    return InvalidSQL(f"statement {index + 1} is not a schema change: {why}",
                      hint="pass DDL (CREATE/ALTER/DROP ...) or data changes (INSERT/UPDATE/DELETE)",
                      statement=text)


def _modelled(tree: exp.Expr, text: str, index: int) -> list[Touch]:
    if isinstance(tree, exp.Create):
        return _create(tree, text, index)
    if isinstance(tree, exp.Alter):
        return _alter(tree, text, index)
    if isinstance(tree, exp.Drop):
        return _drop(tree)
    if isinstance(tree, exp.Comment):
        return _comment(tree)
    if isinstance(tree, exp.Insert | exp.Update | exp.Delete | exp.TruncateTable):
        return _data(tree)
    if isinstance(tree, exp.Grant | exp.Revoke):
        securable = tree.args.get("securable")
        if isinstance(securable, exp.Table):
            schema, name = _qualified(securable)
            return [Touch(Kind.TABLE, schema, name, Action.ALTER, detail="privileges")]
        return []
    raise _refused(text, index, f"it parses as {type(tree).__name__.upper()}")


def _references(node: exp.Expr) -> list[Touch]:
    """Tables and columns a FOREIGN KEY / REFERENCES clause points at."""
    touches: list[Touch] = []
    for ref in node.find_all(exp.Reference):
        target = ref.this
        cols: list[str] = []
        if isinstance(target, exp.Schema):
            cols = [_ident(c) for c in target.expressions]
            target = target.this
        if not isinstance(target, exp.Table):
            continue
        schema, name = _qualified(target)
        touches.append(Touch(Kind.TABLE, schema, name, Action.REFERENCE, detail="foreign key"))
        touches.extend(Touch(Kind.COLUMN, schema, c, Action.REFERENCE, table=name, detail="foreign key")
                       for c in cols)
    return touches


def _query_references(query: exp.Expr) -> list[Touch]:
    """Relations and columns a query reads (CTE names excluded); qualified columns map to their table."""
    ctes = {_ident(c.args.get("alias")) for c in query.find_all(exp.CTE)}
    aliases: dict[str, tuple[str, str]] = {}
    touches: list[Touch] = []
    for table in query.find_all(exp.Table):
        if not table.name or _ident(table) in ctes:
            continue
        schema, name = _qualified(table)
        aliases[table.alias_or_name.lower()] = (schema, name)
        aliases[name] = (schema, name)
        touches.append(Touch(Kind.TABLE, schema, name, Action.REFERENCE, detail="read by query"))
    single = next(iter(set(aliases.values()))) if len(set(aliases.values())) == 1 else None
    for column in query.find_all(exp.Column):
        qualifier = column.table.lower() if column.table else ""
        owner = aliases.get(qualifier) if qualifier else single
        if owner is not None and column.name:
            touches.append(Touch(Kind.COLUMN, owner[0], _ident(column), Action.REFERENCE, table=owner[1],
                                 detail="read by query"))
    return touches


def _column_def(schema: str, table: str, col: exp.ColumnDef, action: Action) -> list[Touch]:
    name = _ident(col.this)
    touches = [Touch(Kind.COLUMN, schema, name, action, table=table)]
    touches.extend(_type_reference(col.args.get("kind")))
    for constraint in col.args.get("constraints") or []:
        kind = constraint.args.get("kind")
        if isinstance(kind, exp.Reference):
            touches.append(Touch(Kind.CONSTRAINT, schema, f"{table}_{name}_fkey", Action.CREATE, table=table,
                                 columns=(name,), detail="foreign key"))
        elif isinstance(kind, exp.PrimaryKeyColumnConstraint | exp.UniqueColumnConstraint):
            suffix = "pkey" if isinstance(kind, exp.PrimaryKeyColumnConstraint) else "key"
            cname = f"{table}_pkey" if suffix == "pkey" else f"{table}_{name}_key"
            touches.append(Touch(Kind.CONSTRAINT, schema, cname, Action.CREATE, table=table, columns=(name,)))
    touches.extend(_references(col))
    return touches


def _type_reference(dtype: object) -> list[Touch]:
    if isinstance(dtype, exp.DataType) and dtype.this == exp.DataType.Type.USERDEFINED:
        kind = dtype.args.get("kind")
        raw = kind.name if isinstance(kind, exp.Expr) else str(kind or "")
        if raw:
            schema, _, name = raw.rpartition(".")
            return [Touch(Kind.TYPE, (schema or DEFAULT_SCHEMA).lower(), name.lower(), Action.REFERENCE,
                          detail="column type")]
    return []


def _constraint(schema: str, table: str, node: exp.Expr, action: Action) -> list[Touch]:
    """A table constraint (named or not) and what it references."""
    name = _ident(node.this) if isinstance(node, exp.Constraint) and node.this is not None else ""
    cols: list[str] = []
    kinds: list[str] = []
    for inner in node.walk():
        if isinstance(inner, exp.ForeignKey):
            cols.extend(_ident(c) for c in inner.expressions)
            kinds.append("fkey")
        elif isinstance(inner, exp.PrimaryKey):
            cols.extend(_ident(c) for c in inner.expressions)
            kinds.append("pkey")
        elif isinstance(inner, exp.UniqueColumnConstraint):
            schema_node = inner.this
            if isinstance(schema_node, exp.Schema):
                cols.extend(_ident(c) for c in schema_node.expressions)
            kinds.append("key")
        elif isinstance(inner, exp.CheckColumnConstraint):
            cols.extend(_ident(c) for c in inner.find_all(exp.Column))
            kinds.append("check")
    if not name:
        kind = kinds[0] if kinds else "constraint"
        name = f"{table}_pkey" if kind == "pkey" else f"{table}_{'_'.join(cols) or 'anon'}_{kind}"
    touches = [Touch(Kind.CONSTRAINT, schema, name, action, table=table, columns=tuple(cols),
                     detail=",".join(kinds))]
    touches.extend(Touch(Kind.COLUMN, schema, c, Action.REFERENCE, table=table, detail="constraint")
                   for c in cols)
    touches.extend(_references(node))
    return touches


def _create(tree: exp.Create, text: str, index: int) -> list[Touch]:
    kind = str(tree.args.get("kind") or "").upper()
    target = tree.this
    if kind == "TABLE":
        schema, name = _qualified(target)
        touches = [Touch(Kind.TABLE, schema, name, Action.CREATE)]
        if isinstance(target, exp.Schema):
            for item in target.expressions:
                if isinstance(item, exp.ColumnDef):
                    touches.extend(_column_def(schema, name, item, Action.CREATE))
                elif isinstance(item, exp.LikeProperty) and isinstance(item.this, exp.Table):
                    s, n = _qualified(item.this)
                    touches.append(Touch(Kind.TABLE, s, n, Action.REFERENCE, detail="LIKE"))
                else:
                    touches.extend(_constraint(schema, name, item, Action.CREATE))
        if isinstance(tree.expression, exp.Query):
            touches.extend(_query_references(tree.expression))
        for parent in tree.find_all(exp.PartitionedOfProperty):
            if isinstance(parent.this, exp.Table):
                s, n = _qualified(parent.this)
                touches.append(Touch(Kind.TABLE, s, n, Action.ALTER, detail=f"gains partition {name}"))
        return touches
    if kind == "INDEX" and isinstance(target, exp.Index):
        table = target.args.get("table")
        if not isinstance(table, exp.Table):
            raise _refused(text, index, "CREATE INDEX without a table")
        schema, tname = _qualified(table)
        params = target.args.get("params")
        cols: list[str] = []
        exprs = params.args.get("columns") if isinstance(params, exp.IndexParameters) else None
        for ordered in exprs or []:
            cols.extend(_ident(c) for c in ordered.find_all(exp.Column))
        iname = _ident(target.this) if target.this is not None else f"{tname}_{'_'.join(cols)}_idx"
        touches = [Touch(Kind.INDEX, schema, iname, Action.CREATE, table=tname, columns=tuple(cols))]
        touches.extend(Touch(Kind.COLUMN, schema, c, Action.REFERENCE, table=tname, detail="indexed")
                       for c in cols)
        return touches
    if kind == "VIEW":
        schema, name = _qualified(target)
        touches = [Touch(Kind.VIEW, schema, name, Action.CREATE,
                         detail="materialized" if _is_materialized(tree) else "")]
        if isinstance(tree.expression, exp.Expr):
            touches.extend(_query_references(tree.expression))
        return touches
    if kind in {"FUNCTION", "PROCEDURE"}:
        func = target.this if isinstance(target, exp.UserDefinedFunction) else target
        schema, name = _qualified(func) if isinstance(func, exp.Table) else (DEFAULT_SCHEMA, _ident(func))
        return [Touch(Kind.FUNCTION, schema, name, Action.CREATE, detail=kind.lower())]
    if kind == "TYPE":
        schema, name = _qualified(target)
        return [Touch(Kind.TYPE, schema, name, Action.CREATE)]
    if kind == "SEQUENCE":
        schema, name = _qualified(target)
        touches = [Touch(Kind.SEQUENCE, schema, name, Action.CREATE)]
        for col in tree.find_all(exp.Column):
            if col.table:
                touches.append(Touch(Kind.COLUMN, schema, _ident(col), Action.REFERENCE, table=col.table.lower(),
                                     detail="owned by"))
        return touches
    if kind == "SCHEMA":
        name = _ident(target.args.get("db")) if isinstance(target, exp.Table) else _ident(target)
        return [Touch(Kind.SCHEMA, name, name, Action.CREATE)]
    if kind == "TRIGGER":
        props = tree.args.get("properties")
        trig = next((p for p in props.expressions if isinstance(p, exp.TriggerProperties)), None) \
            if isinstance(props, exp.Properties) else None
        table = trig.args.get("table") if trig is not None else None
        if not isinstance(table, exp.Table):
            raise _refused(text, index, "CREATE TRIGGER without a table")
        schema, tname = _qualified(table)
        touches = [Touch(Kind.TRIGGER, schema, _ident(target), Action.CREATE, table=tname)]
        execute = trig.args.get("execute") if trig is not None else None
        if isinstance(execute, exp.Expr):
            for func in execute.find_all(exp.Anonymous):
                touches.append(Touch(Kind.FUNCTION, DEFAULT_SCHEMA, str(func.name).lower(), Action.REFERENCE,
                                     detail="trigger function"))
        return touches
    raise _refused(text, index, f"CREATE {kind or type(target).__name__} is not supported")


def _alter(tree: exp.Alter, text: str, index: int) -> list[Touch]:
    kind = str(tree.args.get("kind") or "").upper()
    schema, name = _qualified(tree.this)
    touches: list[Touch] = []
    if kind in {"INDEX", "VIEW", "SEQUENCE"}:
        obj_kind = {"INDEX": Kind.INDEX, "VIEW": Kind.VIEW, "SEQUENCE": Kind.SEQUENCE}[kind]
        for action in tree.args.get("actions") or []:
            if isinstance(action, exp.AlterRename):
                new = _ident(action.this)
                touches.append(Touch(obj_kind, schema, name, Action.RENAME, detail=f"renamed to {new}"))
                touches.append(Touch(obj_kind, schema, new, Action.RENAME, detail=f"renamed from {name}"))
        return touches or [Touch(obj_kind, schema, name, Action.ALTER)]
    if kind != "TABLE":
        raise _refused(text, index, f"ALTER {kind} is not supported")
    touches.append(Touch(Kind.TABLE, schema, name, Action.ALTER))
    for action in tree.args.get("actions") or []:
        if isinstance(action, exp.ColumnDef):
            touches.extend(_column_def(schema, name, action, Action.CREATE))
        elif isinstance(action, exp.AlterColumn):
            col = _ident(action.this)
            retype = action.args.get("dtype") is not None
            touches.append(Touch(Kind.COLUMN, schema, col, Action.RETYPE if retype else Action.ALTER, table=name))
            touches.extend(_type_reference(action.args.get("dtype")))
        elif isinstance(action, exp.RenameColumn):
            old, new = _ident(action.this), _ident(action.args.get("to"))
            touches.append(Touch(Kind.COLUMN, schema, old, Action.RENAME, table=name, detail=f"renamed to {new}"))
            touches.append(Touch(Kind.COLUMN, schema, new, Action.RENAME, table=name, detail=f"renamed from {old}"))
        elif isinstance(action, exp.AlterRename):
            new_schema, new = _qualified(action.this)
            touches.append(Touch(Kind.TABLE, schema, name, Action.RENAME, detail=f"renamed to {new}"))
            touches.append(Touch(Kind.TABLE, schema, new, Action.RENAME, detail=f"renamed from {name}"))
        elif isinstance(action, exp.Drop):
            dkind = str(action.args.get("kind") or "").upper()
            for target in action.expressions or action.args.get("tables") or []:
                if dkind == "CONSTRAINT":
                    touches.append(Touch(Kind.CONSTRAINT, schema, _ident(target), Action.DROP, table=name))
                else:
                    touches.append(Touch(Kind.COLUMN, schema, _ident(target), Action.DROP, table=name))
        elif isinstance(action, exp.AddConstraint):
            for constraint in action.expressions:
                touches.extend(_constraint(schema, name, constraint, Action.CREATE))
        else:
            touches.append(Touch(Kind.TABLE, schema, name, Action.UNKNOWN,
                                 detail=f"{type(action).__name__} not modelled"))
    return touches


_DROP_KINDS = {"TABLE": Kind.TABLE, "INDEX": Kind.INDEX, "VIEW": Kind.VIEW, "FUNCTION": Kind.FUNCTION,
               "PROCEDURE": Kind.FUNCTION, "TYPE": Kind.TYPE, "SEQUENCE": Kind.SEQUENCE, "SCHEMA": Kind.SCHEMA,
               "TRIGGER": Kind.TRIGGER}


def _drop(tree: exp.Drop) -> list[Touch]:
    kind = str(tree.args.get("kind") or "").upper()
    obj_kind = _DROP_KINDS.get(kind)
    touches: list[Touch] = []
    for target in tree.args.get("tables") or []:
        if obj_kind is Kind.SCHEMA:
            sname = _ident(target.args.get("db")) if isinstance(target, exp.Table) else _ident(target)
            touches.append(Touch(Kind.SCHEMA, sname, sname, Action.DROP,
                                 detail="cascade" if tree.args.get("cascade") else ""))
            continue
        schema, name = _qualified(target)
        if obj_kind is Kind.TRIGGER:
            on = tree.args.get("cluster")
            table = _qualified(on.this)[1] if isinstance(on, exp.OnProperty) else None
            touches.append(Touch(Kind.TRIGGER, schema, name, Action.DROP, table=table))
        elif obj_kind is not None:
            touches.append(Touch(obj_kind, schema, name, Action.DROP,
                                 detail="cascade" if tree.args.get("cascade") else ""))
        else:
            touches.append(Touch(Kind.TABLE, schema, name, Action.UNKNOWN, detail=f"DROP {kind}"))
    return touches


def _comment(tree: exp.Comment) -> list[Touch]:
    target = tree.this
    if isinstance(target, exp.Column):
        table = target.table.lower() if target.table else ""
        return [Touch(Kind.COLUMN, DEFAULT_SCHEMA, _ident(target), Action.ALTER, table=table or None,
                      detail="comment")]
    if isinstance(target, exp.Table):
        schema, name = _qualified(target)
        return [Touch(Kind.TABLE, schema, name, Action.ALTER, detail="comment")]
    return []


def _data(tree: exp.Expr) -> list[Touch]:
    touches: list[Touch] = []
    targets = tree.expressions if isinstance(tree, exp.TruncateTable) else [tree.this]
    for target in targets:
        if isinstance(target, exp.Schema):
            target = target.this
        if isinstance(target, exp.Table):
            schema, name = _qualified(target)
            touches.append(Touch(Kind.TABLE, schema, name, Action.DATA))
    return touches


# ---------------------------------------------------------------------------------------------- commands

# ALTER TABLE sub-commands sqlglot models: falling back to a Command on one of these means the statement is
# malformed (e.g. `ALTER TABLE users ADD COLUMN` without a definition), not that it is unmodelled.
_MODELLED_ALTER_TABLE = {("ADD", "COLUMN"), ("DROP", "COLUMN"), ("RENAME", "TO"), ("RENAME", "COLUMN")}
_OBJECT_WORDS = {
    "TABLE", "INDEX", "VIEW", "MATERIALIZED", "FUNCTION", "PROCEDURE", "TYPE", "DOMAIN", "SEQUENCE", "SCHEMA",
    "EXTENSION", "POLICY", "TRIGGER", "RULE", "AGGREGATE", "OPERATOR", "CAST", "COLLATION", "TEXT",
    "PUBLICATION", "SUBSCRIPTION", "EVENT", "FOREIGN", "SERVER", "ROLE", "USER", "GROUP", "DEFAULT", "UNIQUE",
    "CONSTRAINT", "TEMP", "TEMPORARY", "UNLOGGED", "STATISTICS", "CONVERSION", "LANGUAGE", "TABLESPACE",
    "ROUTINE", "LARGE", "ACCESS", "TRANSFORM", "OWNED", "DATABASE", "RECURSIVE"}
_NAME_AFTER = {"TABLE", "ON", "FROM", "INTO", "UPDATE", "JOIN", "REFERENCES", "PARTITION"}
_DOLLAR = re.compile(r"^\$(\w*)\$(.*)\$\1\$$", re.DOTALL)
_STOP_WORDS = {"IF", "NOT", "EXISTS", "ONLY", "ALL", "LATERAL", "SELECT", "SET", "TABLE"}


def _words(tokens: list[Token]) -> list[str]:
    return [t.text.upper() for t in tokens if t.token_type not in {TokenType.IDENTIFIER, TokenType.STRING}]


def _names_at(tokens: list[Token], i: int) -> tuple[str, str] | None:
    """The (schema, name) starting at token i (``a``, ``"A"``, ``s.a``), or None."""
    def one(tok: Token) -> str | None:
        if tok.token_type == TokenType.IDENTIFIER:
            return tok.text
        if tok.token_type in {TokenType.STRING, TokenType.L_PAREN, TokenType.R_PAREN, TokenType.COMMA,
                              TokenType.SEMICOLON, TokenType.HEREDOC_STRING, TokenType.NUMBER}:
            return None
        word = tok.text
        if not word or not (word[0].isalpha() or word[0] == "_") or word.upper() in _STOP_WORDS:
            return None
        return word.lower()

    while i < len(tokens) and tokens[i].text.upper() in {"IF", "NOT", "EXISTS", "ONLY", "CONCURRENTLY"}:
        i += 1
    if i >= len(tokens):
        return None
    first = one(tokens[i])
    if first is None:
        return None
    if i + 2 < len(tokens) and tokens[i + 1].token_type == TokenType.DOT:
        second = one(tokens[i + 2])
        if second is not None:
            return first, second
    return DEFAULT_SCHEMA, first


def _dollar_body(tok: Token) -> str | None:
    """The body of a dollar-quoted string token (``$$ ... $$`` or ``$tag$ ... $tag$``), else None."""
    if tok.token_type == TokenType.HEREDOC_STRING:
        return tok.text
    if tok.token_type == TokenType.STRING:
        match = _DOLLAR.match(tok.text)
        if match:
            return match.group(2)
    return None


def _named_tables(tokens: list[Token]) -> list[tuple[str, str]]:
    """Relations a statement names, found conservatively: every name after TABLE, ON, FROM, INTO, UPDATE,
    JOIN or REFERENCES, also inside dollar-quoted bodies (DO blocks, function bodies)."""
    found: list[tuple[str, str]] = []
    for i, tok in enumerate(tokens):
        if tok.text.upper() in _NAME_AFTER and tok.token_type not in {TokenType.IDENTIFIER, TokenType.STRING}:
            named = _names_at(tokens, i + 1)
            if named is not None:
                found.append(named)
        else:
            body = _dollar_body(tok)
            if body is None:
                continue
            try:
                found.extend(_named_tables(_DIALECT.tokenize(body)))
            except TokenError:
                continue
    return found


def _command(text: str, index: int) -> Statement:
    """A statement sqlglot does not model: recognise its command and object, find the tables it names."""
    tokens = _DIALECT.tokenize(text)
    if tokens and tokens[0].token_type == TokenType.COMMAND and tokens[0].text.upper() != "DO":
        # sqlglot keeps the rest of some commands (REFRESH ...) as one string: tokenize it too.
        tokens = [tokens[0], *_DIALECT.tokenize(text[tokens[0].end + 1:])]
    words = _words(tokens)
    upper = [t.text.upper() for t in tokens]
    if not upper:
        raise InvalidSQL(f"statement {index + 1} is empty", hint="remove the empty statement")
    head = upper[0]
    if head not in {"CREATE", "ALTER", "DROP", "DO", "COMMENT", "GRANT", "REVOKE", "REFRESH", "REINDEX",
                    "CLUSTER", "SECURITY"}:
        raise InvalidSQL(f"statement {index + 1} does not parse as a schema change: it starts with "
                         f"{tokens[0].text!r}", hint="fix the SQL; nothing was recorded", statement=text)
    i = 1
    if upper[i:i + 2] == ["OR", "REPLACE"]:
        i += 2
    obj = upper[i] if i < len(upper) else ""
    if head in {"CREATE", "ALTER", "DROP"} and obj not in _OBJECT_WORDS:
        raise InvalidSQL(f"statement {index + 1} does not parse: {head} {tokens[i].text if i < len(tokens) else ''}"
                         f" is not a known {head} command", hint="fix the SQL; nothing was recorded",
                         statement=text)
    if obj == "MATERIALIZED":
        obj = "MATERIALIZED VIEW"
    command = f"{head} {obj}".strip() if head in {"CREATE", "ALTER", "DROP", "REFRESH"} else head
    touches: list[Touch] = []
    skip = 2 if obj == "MATERIALIZED VIEW" else 1
    named = _names_at(tokens, i + skip) if head in {"CREATE", "ALTER", "DROP", "REFRESH"} else None
    if head == "ALTER" and obj == "TABLE" and named is not None:
        j = i + skip
        while j < len(upper) and upper[j] in {"IF", "EXISTS", "ONLY"}:
            j += 1
        j += 3 if j + 1 < len(tokens) and tokens[j + 1].token_type == TokenType.DOT else 1
        if tuple(upper[j:j + 2]) in _MODELLED_ALTER_TABLE:
            raise InvalidSQL(f"statement {index + 1} does not parse: {' '.join(upper[j:j + 2])} is incomplete "
                             f"or malformed", hint="fix the SQL; nothing was recorded", statement=text)
        touches.append(Touch(Kind.TABLE, named[0], named[1], Action.UNKNOWN, detail=" ".join(words[j:j + 3])))
        if upper[j:j + 2] == ["SET", "SCHEMA"] and j + 2 < len(tokens):
            moved_to = _names_at(tokens, j + 2)
            if moved_to is not None:
                touches.append(Touch(Kind.TABLE, moved_to[1], named[1], Action.UNKNOWN,
                                     detail=f"moved from {named[0]}"))
    elif obj in {"FUNCTION", "PROCEDURE"} and named is not None:
        action = {"CREATE": Action.CREATE, "DROP": Action.DROP}.get(head, Action.ALTER)
        if head == "ALTER" and "RENAME" in upper:
            new = _names_at(tokens, upper.index("RENAME") + 2)
            action = Action.RENAME
            if new is not None:
                touches.append(Touch(Kind.FUNCTION, named[0], new[1], Action.RENAME,
                                     detail=f"renamed from {named[1]}"))
        touches.append(Touch(Kind.FUNCTION, named[0], named[1], action, detail=obj.lower()))
    elif obj in {"TYPE", "DOMAIN"} and named is not None:
        action = {"CREATE": Action.CREATE, "DROP": Action.DROP}.get(head, Action.ALTER)
        touches.append(Touch(Kind.TYPE, named[0], named[1], action, detail=obj.lower()))
    elif obj == "MATERIALIZED VIEW" and named is not None:
        action = {"CREATE": Action.CREATE, "DROP": Action.DROP}.get(head, Action.ALTER)
        touches.append(Touch(Kind.VIEW, named[0], named[1], action, detail="materialized"))
    elif obj == "SEQUENCE" and named is not None:
        touches.append(Touch(Kind.SEQUENCE, named[0], named[1], Action.ALTER))
    elif obj == "EXTENSION" and named is not None:
        touches.append(Touch(Kind.EXTENSION, named[1], named[1], Action.UNKNOWN))
    elif obj == "SCHEMA" and named is not None:
        touches.append(Touch(Kind.SCHEMA, named[1], named[1], Action.UNKNOWN))
    elif obj == "POLICY" and named is not None and "ON" in upper:
        table = _names_at(tokens, upper.index("ON") + 1)
        if table is not None:
            action = {"CREATE": Action.CREATE, "DROP": Action.DROP}.get(head, Action.ALTER)
            touches.append(Touch(Kind.POLICY, table[0], named[1], action, table=table[1]))
    # Conservative: the statement is not modelled, so it may do anything to every relation it names.
    own = {(t.schema, t.name) for t in touches if t.kind in {Kind.VIEW, Kind.SEQUENCE}
           or (t.kind is Kind.TABLE and t.action is Action.UNKNOWN)}
    for schema, name in _named_tables(tokens):
        if (schema, name) not in own:
            own.add((schema, name))
            touches.append(Touch(Kind.TABLE, schema, name, Action.UNKNOWN, detail=command))
    return Statement(index, text, command, False, tuple(sorted(set(touches))))
