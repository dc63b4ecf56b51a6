# ---- split assertions (the judge's side) ----
# Hardened mode splits an assertion test of the usual shapes (assert CALL == EXPR, assert CALL,
# assert not CALL, abs(CALL - X) < EPS, math.isclose(CALL, X), CALL in (...), ..., bare or in
# HumanEval's check(candidate) body) in two. The child expressions, calls whose function names
# the program, go to the child, which evaluates them and reports their values. The rest of the
# assertion, the expected side, stays here: it is evaluated on the values as decoded (plain
# built-in types only) with the real built-ins and math, whatever the program did to its own.
# Any other shape (loops, helper functions, names the test defines, calls of other modules, a
# call that runs only conditionally) runs whole in the child, as in compat mode, and is
# counted in the result's tests_unprotected.

class Unsplittable(Exception):
    pass


# Functions the expected side may call. Pure and bounded by their arguments' size; `type` only
# with one argument (with three it builds a class).
TRUSTED_FUNCTIONS = ("abs", "all", "any", "bool", "bytes", "chr", "complex", "dict", "divmod", "enumerate",
                     "float", "frozenset", "int", "isinstance", "len", "list", "max", "min", "ord", "range",
                     "repr", "reversed", "round", "set", "sorted", "str", "sum", "tuple", "type", "zip")
TRUSTED_BUILTINS = {name: getattr(builtins, name) for name in TRUSTED_FUNCTIONS}
PLACEHOLDER = "__codealign_value_%d"
BIG_OPERAND = 1 << 20  # a larger constant in `*` or `<<`, or exponent of `**`, could exhaust the judge


def is_literal(node):
    try:
        ast.literal_eval(node)
        return True
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return False


def bound_names(statement):
    """Names an import or assignment of the test binds."""
    if isinstance(statement, (ast.Import, ast.ImportFrom)):
        return {(alias.asname or alias.name).split(".")[0] for alias in statement.names}
    return {node.id for target in statement.targets for node in ast.walk(target) if isinstance(node, ast.Name)}


def math_aliases(imports, bound):
    """Names the test's imports give to math and its functions, with what they stand for. `math`
    itself is there unless the test binds the name otherwise: tests use the program's import."""
    aliases = {} if "math" in bound else {"math": math}
    for statement in imports:
        for alias in statement.names:
            if isinstance(statement, ast.Import) and alias.name == "math":
                aliases[alias.asname or "math"] = math
            elif isinstance(statement, ast.ImportFrom) and statement.module == "math" and not statement.level \
                    and alias.name != "*" and not alias.name.startswith("_") and hasattr(math, alias.name):
                aliases[alias.asname or alias.name] = getattr(math, alias.name)
    return aliases


class Splitter:
    """Rewrites one assertion: child expressions become placeholders, in evaluation order."""

    def __init__(self, trusted, program, bound):
        self.trusted, self.program = trusted, program  # names of the judge's side; the program's names
        self.bound = bound  # names the test binds
        self.calls = []

    def names_program(self, node):
        return any(isinstance(n, ast.Name) and n.id in self.program for n in ast.walk(node))

    def is_trusted_call(self, node):
        func = node.func
        if isinstance(func, ast.Name) and func.id in self.trusted:
            if self.trusted[func.id] is type:
                return len(node.args) == 1 and not node.keywords
            return callable(self.trusted[func.id])  # math.pi, imported from math, is not
        return self.is_math_attribute(func)

    def is_math_attribute(self, node):
        return (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                and self.trusted.get(node.value.id) is math and not node.attr.startswith("_"))

    def is_child_expression(self, node):
        if isinstance(node, ast.Call):
            if self.is_trusted_call(node):
                return False
            if self.names_program(node.func):
                return True
            # Another built-in (next(f(x))): the child's when it calls the program; else it may be
            # an expected side that the child must not see. Functions of other modules never are.
            func = node.func
            return (isinstance(func, ast.Name) and hasattr(builtins, func.id) and func.id not in self.bound
                    and any(self.names_program(part) for part in node.args + [k.value for k in node.keywords]))
        return isinstance(node, ast.Attribute) and not self.is_math_attribute(node) and self.names_program(node.value)

    def rewrite(self, node, conditional=False):
        if self.is_child_expression(node):
            if conditional:  # evaluated by the child regardless, it could time out where compat stops first
                raise Unsplittable("a call into the program that runs only conditionally")
            self.calls.append(ast.unparse(node))
            return ast.Name(PLACEHOLDER % (len(self.calls) - 1), ast.Load())
        return self.rewrite_expected(node, conditional)

    def rewrite_expected(self, node, conditional):
        rewrite = self.rewrite
        if isinstance(node, ast.Constant):
            return node
        if isinstance(node, ast.Name):
            if node.id in self.trusted:
                return node
            raise Unsplittable("name '%s'" % node.id)
        if isinstance(node, ast.Attribute):
            if self.is_math_attribute(node):
                return node
            raise Unsplittable("attribute '%s'" % node.attr)
        if isinstance(node, ast.Call):
            if not self.is_trusted_call(node) or any(isinstance(a, ast.Starred) for a in node.args) \
                    or any(k.arg is None for k in node.keywords):
                raise Unsplittable("call of %s" % ast.unparse(node.func))
            return ast.Call(node.func, [rewrite(a, conditional) for a in node.args],
                            [ast.keyword(k.arg, rewrite(k.value, conditional)) for k in node.keywords])
        if isinstance(node, ast.Compare):  # later comparators are evaluated only while the chain holds
            left = rewrite(node.left, conditional)  # each part in Python's order of evaluation
            comparators = [rewrite(c, conditional or i > 0) for i, c in enumerate(node.comparators)]
            return ast.Compare(left, node.ops, comparators)
        if isinstance(node, ast.BoolOp):
            return ast.BoolOp(node.op, [rewrite(v, conditional or i > 0) for i, v in enumerate(node.values)])
        if isinstance(node, ast.IfExp):
            return ast.IfExp(rewrite(node.test, conditional), rewrite(node.body, True), rewrite(node.orelse, True))
        if isinstance(node, ast.UnaryOp):
            return ast.UnaryOp(node.op, rewrite(node.operand, conditional))
        if isinstance(node, ast.BinOp):
            self.check_operands(node)
            return ast.BinOp(rewrite(node.left, conditional), node.op, rewrite(node.right, conditional))
        if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
            if any(isinstance(e, ast.Starred) for e in node.elts):
                raise Unsplittable("starred element")
            elements = [rewrite(e, conditional) for e in node.elts]
            return ast.Set(elements) if isinstance(node, ast.Set) else type(node)(elements, ast.Load())
        if isinstance(node, ast.Dict):
            if any(k is None for k in node.keys):
                raise Unsplittable("dict unpacking")
            pairs = [(rewrite(k, conditional), rewrite(v, conditional)) for k, v in zip(node.keys, node.values)]
            return ast.Dict([k for k, _ in pairs], [v for _, v in pairs])
        if isinstance(node, ast.Subscript):
            return ast.Subscript(rewrite(node.value, conditional), rewrite(node.slice, conditional), ast.Load())
        if isinstance(node, ast.Slice):
            parts = (node.lower, node.upper, node.step)
            return ast.Slice(*(rewrite(p, conditional) if p is not None else None for p in parts))
        raise Unsplittable(type(node).__name__)

    @staticmethod
    def check_operands(node):
        def big(operand):
            if isinstance(operand, ast.UnaryOp) and isinstance(operand.op, ast.USub):
                operand = operand.operand
            return not isinstance(operand, ast.Constant) or not isinstance(operand.value, (int, float)) \
                or abs(operand.value) > BIG_OPERAND
        if isinstance(node.op, (ast.Pow, ast.LShift)) and big(node.right):
            raise Unsplittable("exponent or shift that is not a small constant")
        if isinstance(node.op, ast.Mult) and any(isinstance(o, ast.Constant) and isinstance(o.value, int)
                                                 and abs(o.value) > BIG_OPERAND for o in (node.left, node.right)):
            raise Unsplittable("large repetition")


class SplitAssert:
    """One assertion: its child expressions (sources, for the child) and its expected side
    (code, for the judge), with the assert's message."""

    def __init__(self, statement, trusted, program, bound):
        splitter = Splitter(trusted, program, bound)
        expected = splitter.rewrite(statement.test)
        self.calls = splitter.calls
        self.expected = compile(ast.fix_missing_locations(ast.Expression(expected)), "<assertion>", "eval")
        self.message = None
        try:  # a message that calls the program again ('got ' + str(f(x))) is left out: it is only text
            if statement.msg is not None:
                message = Splitter(trusted, program, bound).rewrite(statement.msg, conditional=True)
                self.message = compile(ast.fix_missing_locations(ast.Expression(message)), "<assertion>", "eval")
        except Unsplittable:
            pass

    def failure(self, namespace, raw_values):
        """None when the assertion holds on the reported values; else why it fails."""
        if not isinstance(raw_values, list) or len(raw_values) != len(self.calls):
            return {"type": "UntrustedValue", "message": "the values reported do not match the assertion"}
        values = {}
        for number, raw in enumerate(raw_values):
            try:
                values[PLACEHOLDER % number] = decode(raw, strict=True)
            except (NotPlain, RecursionError) as error:
                return {"type": "UntrustedValue",
                        "message": "%s returned a value of type '%s', not a plain value" % (self.calls[number], error)}
        try:
            if eval(self.expected, namespace, values):
                return None
            return {"type": "AssertionError", "message": str(eval(self.message, namespace)) if self.message else ""}
        except Exception as error:
            return describe(error)


class SplitTest:
    """A test split into the child's part (imports, then each assertion's calls) and the judge's."""

    def __init__(self, imports, asserts, trusted, program, bound):
        self.imports = [ast.unparse(statement) for statement in imports]
        self.asserts = [SplitAssert(statement, trusted, program, bound) for statement in asserts]
        self.namespace = {"__builtins__": TRUSTED_BUILTINS, **{name: value for name, value in trusted.items()
                                                               if name not in TRUSTED_BUILTINS}}

    def child_part(self):
        return {"imports": self.imports, "asserts": [statement.calls for statement in self.asserts]}


class CandidateRenamer(ast.NodeTransformer):
    def __init__(self, parameter, argument):
        self.parameter, self.argument = parameter, argument

    def visit_Name(self, node):
        return ast.copy_location(ast.Name(self.argument, node.ctx), node) if node.id == self.parameter else node


def is_check_function(statement):
    args = statement.args
    return (not statement.decorator_list and len(args.args) == 1 and not args.posonlyargs and not args.vararg
            and not args.kwonlyargs and not args.kwarg and not args.defaults)


def is_check_call(statement, checks):
    call = statement.value if isinstance(statement, ast.Expr) else None
    return (isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id in checks
            and len(call.args) == 1 and isinstance(call.args[0], ast.Name) and not call.keywords)


def is_inert(statement):
    return isinstance(statement, ast.Pass) or (isinstance(statement, ast.Expr)
                                               and isinstance(statement.value, ast.Constant))


def split_module(tree, shadowed=frozenset()):
    """MBPP's asserts, or HumanEval's imports, constants, def check(candidate) of asserts and
    check(entry_point) at the end. `shadowed`: names of the judge's side that the program
    redefines (MBPP/126 defines and tests `sum`)."""
    imports, asserts, bound, checks, check_call = [], [], set(), {}, None
    for statement in tree.body:
        if check_call is not None:
            raise Unsplittable("a statement after check()")
        if isinstance(statement, (ast.Import, ast.ImportFrom)):
            imports.append(statement)
            bound |= bound_names(statement)
        elif isinstance(statement, ast.Assign) and is_literal(statement.value):
            bound |= bound_names(statement)  # METADATA = {...}: never run, so never usable
        elif isinstance(statement, ast.FunctionDef) and is_check_function(statement):
            checks[statement.name] = statement
            bound.add(statement.name)
        elif is_check_call(statement, checks):
            check_call = statement.value
        elif isinstance(statement, ast.Assert):
            asserts.append(statement)
        elif not is_inert(statement):
            raise Unsplittable(type(statement).__name__)
    program, assigned = set(), set(bound) - {name for statement in imports for name in bound_names(statement)}
    if check_call is not None:
        check = checks[check_call.func.id]
        argument = check_call.args[0].id
        renamer = CandidateRenamer(check.args.args[0].arg, argument)
        for statement in check.body:
            if isinstance(statement, (ast.Import, ast.ImportFrom)):
                imports.append(statement)
                bound |= bound_names(statement)
            elif isinstance(statement, ast.Assert):
                asserts.append(renamer.visit(statement))
            elif not is_inert(statement):
                raise Unsplittable(type(statement).__name__)
        program.add(argument)
    if not asserts:
        raise Unsplittable("no assertion")
    used = {node.id for statement in asserts for node in ast.walk(statement) if isinstance(node, ast.Name)}
    if used & assigned:  # constants and functions of the test, which the child does not get
        raise Unsplittable("names the test defines: %s" % ", ".join(sorted(used & assigned)))
    trusted = {**{name: TRUSTED_BUILTINS[name] for name in TRUSTED_FUNCTIONS if name not in bound},
               **math_aliases(imports, bound)}
    # check(max): the entry point is under test, whatever built-in it shares its name with.
    trusted = {name: value for name, value in trusted.items() if name not in program}
    trusted_used = frozenset(used & set(trusted))
    program |= {name for name in used if name not in trusted and name not in bound and not hasattr(builtins, name)}
    if shadowed and not program:
        # The test calls only names the program redefines: they are its functions under test.
        # Anywhere else a redefined built-in is a helper of the comparison (a program that
        # defines abs() to return 0 would pass abs(f(x) - y) < eps), and the judge keeps its own.
        trusted = {name: value for name, value in trusted.items() if name not in shadowed}
        program |= used & shadowed
    split = SplitTest(imports, asserts, trusted, program, bound)
    split.trusted_used = trusted_used
    return split


@functools.lru_cache(maxsize=4096)
def split_test(source, shadowed=frozenset()):
    """The split form of an assertion test, or None when it runs whole in the child. Cached: the
    judge sees the same tests for every sample of a task."""
    try:
        return split_module(ast.parse(source), shadowed)
    except (Unsplittable, SyntaxError, ValueError, TypeError, RecursionError, MemoryError):
        return None


def program_bindings(source, names):
    """Which of `names` the program binds at module level (def, class, import, assignment,
    `global`), as far as its text tells; all of them when it cannot be read or imports *."""
    if not re.search(r"\b(?:%s)\b|import\s*\*" % "|".join(map(re.escape, names)), source):
        return frozenset()
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return frozenset()  # the child reports the syntax error; nothing runs
    bound = set()

    def visit(node):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
            bound.update(name for inner in ast.walk(node) if isinstance(inner, ast.Global) for name in inner.names)
            return
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            if any(alias.name == "*" for alias in node.names):
                bound.update(names)
            # `import math` and `from math import isclose` bind what the judge's side uses too
            same = {"math"} if isinstance(node, ast.Import) else math_aliases([node], set()).keys()
            bound.update(alias.asname or alias.name.split(".")[0] for alias in node.names
                         if (alias.asname or alias.name) not in same or (alias.asname and alias.asname != alias.name))
        elif isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
            bound.add(node.id)
        elif isinstance(node, (ast.Lambda, ast.GeneratorExp, ast.ListComp, ast.SetComp, ast.DictComp)):
            return  # their names are their own
        for child in ast.iter_child_nodes(node):
            visit(child)

    try:
        for statement in tree.body:
            visit(statement)
    except RecursionError:
        return frozenset(names)
    return frozenset(bound & set(names))


def split_plan(job):
    """The job's split tests by index: in hardened mode, those of the usual shapes, each split
    again when the program redefines a name its judge's side would use (split_module)."""
    if not job.get("hardened") or not job["tests"]:
        return {}
    plan = {}
    for index, source in enumerate(job["tests"]):
        split = split_test(source)
        if split is not None and split.trusted_used:
            shadowed = program_bindings(job["program"], split.trusted_used)
            split = split_test(source, shadowed) if shadowed else split
        if split is not None:
            plan[index] = split
    return plan


class SplitJudge:
    """Decides a job's split assertions as their values arrive, in order, and answers the child
    on `answers` ("+" go on, "-" stop; the streamed last test gets only "-"); a report out of
    order or for a decided test is ignored."""

    def __init__(self, plan, answers, tests):
        self.plan, self.answers = plan, answers
        self.streamed = tests - 1 if tests - 1 in plan else None
        self.next = dict.fromkeys(plan, 0)
        self.decided = {}  # test index -> its entry, as the child's "ok" entries would be

    def failed_streamed_test(self):
        """Whether the streamed test failed: after that, only calls past the failed assertion
        ran, which the test as written would not have run."""
        return self.decided.get(self.streamed, {}).get("ok") is False

    def on_report(self, entry):
        where = entry.get("assert")
        if not (isinstance(where, list) and len(where) == 2 and all(type(x) is int for x in where)):
            return
        index, number = where
        split = self.plan.get(index)
        if split is None or index in self.decided or number != self.next[index]:
            return
        failure = split.asserts[number].failure(split.namespace, entry.get("values"))
        if failure is not None:
            self.decided[index] = {"test": index, "ok": False, **failure}
            self.answer(b"-")
            return
        self.next[index] += 1
        if self.next[index] == len(split.asserts):
            self.decided[index] = {"test": index, "ok": True}
        if index != self.streamed:
            self.answer(b"+")

    def answer(self, byte):
        try:
            os.write(self.answers, byte)
        except (BlockingIOError, BrokenPipeError):
            pass  # a child that does not read its answers stalls only itself

    def settle(self, by_test):
        """The split tests' entries in `by_test`: what was decided here; the child's own entry only
        when it reports a failure (an exception in a call) for a test not yet decided."""
        for index in self.plan:
            reported = by_test.pop(index, None)
            if index in self.decided:
                by_test[index] = self.decided[index]
            elif reported is not None and reported.get("ok") is False:
                by_test[index] = reported


