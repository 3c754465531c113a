"""training_steps.xlsx: ten steps on one mini-batch, plain SGD and with momentum, each step's
weights formulas of the step before.

    Start                  what it is, how to read it, the names
    Data                   x, y (examples of different classes), lr, mu, the starting weights
    Step 1 ... Step N      plain SGD: parameters in, forward, short form, update, L after
    Momentum 1 ... N       the same with momentum, as purenet train steps:
                           v <- mu v + g,  theta <- theta - lr v  (v starts at 0)
    Loss                   per step: L before and after, p of each example's true class,
                           for both, and their charts

Every step sheet uses the same names (W_1, z_1, dW_1, new_W_1, ...), each
scoped to its own sheet; x, y, lr and mu are the Data sheet's.  Editing the
data, lr, mu or a starting weight replays the whole run.
"""

from ..book import Book, Sheet
from ..cells import GRADIENT, INTERMEDIATE, UPDATE, Area, Formula, symbol_name
from .layout import (ParamBlocks, corner, param_labels, write_data, write_forward, write_lr,
                     write_parameters, write_scalar, write_short_form, write_update)
from .numbers import PARAM_NAMES, Step, as_rows, run_steps, tiny_example, Settings
from .start import link_in_order, network_diagram, write_start

NAMES = [("x, y, lr, mu", "x, y, lr, mu", "Data"),
         ("W1, b1, W2, b2 at the start", "W_1_start, b_1_start, W_2_start, b_2_start", "Data"),
         ("W1, b1, W2, b2", "W_1, b_1, W_2, b_2 (on each step sheet: the weights going in)",
          "Step t, Momentum t"),
         ("z1, h, z2, p, L", "z_1, h, z_2, p, L, L_batch", "Step t, Momentum t"),
         ("dz2, dh, dz1, dW1 ...", "dz_2, dh, dz_1, dW_1, db_1, dW_2, db_2", "Step t, Momentum t"),
         ("v", "v_W_1, v_b_1, ... (velocity in), new_v_W_1, ... (out)", "Momentum t"),
         ("new W1 ...", "new_W_1, new_b_1, new_W_2, new_b_2", "Step t, Momentum t")]


def write_velocity(sheet: Sheet, G: ParamBlocks, source, step: Step, mu) -> ParamBlocks:
    """v_in (0 at the first step, else the step before's new v) and new v = mu v + g."""
    here = sheet.title
    sizes = step.params.sizes
    v_in, v_out = {}, {}
    for name in PARAM_NAMES:
        rows, cols = param_labels(name, sizes, "v " + name)
        old = as_rows(getattr(step.v, name))
        v_in[name] = sheet.block(
            "v " + name, f"v for {name} going in: " + ("0 at the first step" if source is None
                                                       else "the new v of the step before"),
            "The velocity: a running sum of past gradients, each step's share shrunk by mu.",
            GRADIENT, rows, cols,
            (lambda i, j, old=old: old[i][j]) if source is None else
            (lambda i, j, name=name, old=old: Formula(f"={source.get(name).at(here, i, j)}", old[i][j])),
            name="v_" + symbol_name(name), local=True, corner=corner(name))
    for name in PARAM_NAMES:
        rows, cols = param_labels(name, sizes, "new v " + name)
        new = as_rows(getattr(step.new_v, name))
        v_out[name] = sheet.block(
            "new v " + name, f"new v = mu * v + d{name}", "v <- mu v + g, as purenet train "
            "does (train.momentum_step_).", UPDATE, rows, cols,
            lambda i, j, name=name, new=new: Formula(
                f"={mu.whole(here)}*{v_in[name].at(here, i, j)}+{G.get(name).at(here, i, j)}",
                new[i][j]),
            name="new_v_" + symbol_name(name), local=True, corner=corner(name))
    return ParamBlocks(**v_out)


def step_sheet(book: Book, title: str, t: int, step: Step, source: ParamBlocks, source_name: str,
               Xb, Yb, lr, mu=None, v_source=None):
    sheet = book.sheet(title)
    sheet.header(f"{title}: forward, short form, " + ("momentum " if mu else "") + "update",
                 f"Parameters from {source_name}.", home="Start")
    sheet.heading(f"Parameters going into step {t}")
    P = write_parameters(sheet, step.params, source, source_name, local=True)
    sheet.heading("Forward pass")
    F = write_forward(sheet, P, Xb, Yb, step.traces, step.loss, local=True)
    sheet.heading("Backpropagation, short form")
    S = write_short_form(sheet, P, Xb, Yb, F, step, local=True)
    if mu is None:
        sheet.heading("Update: new theta = theta - lr * dtheta")
        new = write_update(sheet, P, S.grads, lr, step.new_params, local=True)
        v_out = None
    else:
        sheet.heading("Momentum: new v = mu v + g, then new theta = theta - lr * new v")
        v_out = write_velocity(sheet, S.grads, v_source, step, mu)
        new = write_update(sheet, P, v_out, lr, step.new_params, local=True, momentum=True)
    sheet.heading("The loss after the update (the same mini-batch, the new parameters)")
    after = write_forward(sheet, new, Xb, Yb, step.after, step.loss_after, local=True,
                          suffix=" after")
    return sheet, new, v_out, F, after


def loss_sheet(book: Book, runs, Yb) -> None:
    sheet = book.sheet("Loss")
    here = sheet.title
    sheet.header("Loss: each step's L before and after its update, and p of the true classes",
                 "Each value refers to its step sheet.  Momentum moves faster once v builds up.",
                 home="Start")
    columns, values, texts = [], [], []
    for label, steps, forwards in runs:
        B = len(steps[0].traces)
        columns += [f"L before ({label})", f"L after ({label})"]
        values.append([s.loss for s in steps])
        texts.append([f"={F.loss.whole(here)}" for F, _ in forwards])
        values.append([s.loss_after for s in steps])
        texts.append([f"={A.loss.whole(here)}" for _, A in forwards])
        for b in range(B):
            k = max(range(len(steps[0].Y[b])), key=lambda q: steps[0].Y[b][q])
            columns.append(f"p_true ex. {b + 1} ({label})")
            values.append([s.traces[b].p[k] for s in steps])
            texts.append([f"={F.p.at(here, b, k)}" for F, _ in forwards])
    N = len(values[0])
    table = sheet.block("L", "per step t: the loss before and after its update, and p of each "
                        "example's true class (before the update)",
                        "L after step t equals L before step t + 1: the same weights.",
                        INTERMEDIATE, [str(t + 1) for t in range(N)], columns,
                        lambda t, c: Formula(texts[c][t], values[c][t]), name="loss_table",
                        corner="step")
    steps_area = Area(here, table.top, 1, table.top + N - 1, 1)
    per_run = len(columns) // len(runs)
    loss_series = [(table.column_area(c), columns[c]) for r in range(len(runs))
                   for c in (r * per_run, r * per_run + 1)]
    p_series = [(table.column_area(c), columns[c]) for r in range(len(runs))
                for c in range(r * per_run + 2, (r + 1) * per_run)]
    below = table.top + N + 2
    sheet.chart(f"B{below}", "The mini-batch loss L, before and after each update", "step",
                "L", steps_area, loss_series, size=(18, 9))
    sheet.chart(f"B{below + 20}", "p of each example's true class, before each update", "step",
                "p", steps_area, p_series, y_max=1.0, size=(18, 9))
    sheet.fit_to_page(wide=1, tall=1, landscape=False)


def training_steps(settings: Settings) -> Book:
    params, X, Y = tiny_example(settings)
    N = settings.steps
    sgd = run_steps(params, X, Y, settings.lr, N)
    momentum = run_steps(params, X, Y, settings.lr, N, mu=settings.mu)
    book = Book("purenet: consecutive training steps, plain SGD and momentum")
    start = book.sheet("Start")
    sheet = book.sheet("Data")
    sheet.header("Data: the mini-batch, lr, mu and the starting weights",
                 "Inputs (yellow) and parameters (blue): every later number is a formula of "
                 "these.", home="Start")
    Xb, Yb = write_data(sheet, X, Y)
    lr = write_lr(sheet, settings.lr)
    mu = write_scalar(sheet, "mu", "mu: the momentum, the share of the last step kept",
                      "v <- mu v + g; mu = 0 gives plain SGD.", settings.mu)
    sheet.heading("Starting weights (network.he_init)")
    first = write_parameters(sheet, params, name_suffix="_start")
    runs = []
    for label, steps, is_momentum in (("SGD", sgd, False), ("momentum", momentum, True)):
        source, source_name, v_source, forwards = first, "Data", None, []
        for t, step in enumerate(steps, 1):
            title = f"Momentum {t}" if is_momentum else f"Step {t}"
            _, source, v_source, F, after = step_sheet(
                book, title, t, step, source, source_name, Xb, Yb, lr,
                mu if is_momentum else None, v_source)
            source_name = title
            forwards.append((F, after))
        runs.append((label, steps, forwards))
    loss_sheet(book, runs, Yb)
    contents = ([("Data", "x, y, lr, mu and the starting weights")]
                + [(f"Step {t + 1}", "plain SGD: parameters in, forward, short form, update, "
                    "L after") for t in range(N)]
                + [(f"Momentum {t + 1}", "the same with momentum: v <- mu v + g, "
                    "theta <- theta - lr v") for t in range(N)]
                + [("Loss", "L before and after each step, p of the true classes, charts")])
    F1 = runs[0][2][0][0]
    write_start(
        start, f"{N} steps of gradient descent on one mini-batch, plain and with momentum",
        "purenet: training_steps.xlsx",
        [f"The same mini-batch ({settings.batch} examples of different classes) trained for {N} "
         "steps twice: plain SGD (sheets Step t) and with momentum as purenet train does it "
         "(sheets Momentum t: v <- mu v + g, theta <- theta - lr v).  Each step's weights are "
         "formulas of the step before's.",
         "Step 1 is the step of forward_and_short_form.xlsx.  Edit x, y, lr, mu or a starting "
         "weight on sheet Data and the whole run replays.",
         "Sheet Loss charts L before and after each update, and p of each example's true "
         "class: the network learns to tell the classes apart, faster with momentum once v "
         "has built up."],
        contents, *network_diagram(Xb, first, F1, sgd[0].traces[0], params), NAMES,
        [("network", "{}-{}-{}".format(*settings.sizes)),
         ("mini-batch", f"{settings.batch} examples, example b of class b"),
         ("lr, mu", f"{settings.lr!r}, {settings.mu!r}"), ("steps", str(N)),
         ("regenerate", settings.command())])
    link_in_order(book)
    return book
