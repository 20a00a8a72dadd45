# The reference's prompt building and output parsing, in Python, for the differential tests
# (test/engine-parse-diff.test.ts, test/engine-prompts-diff.test.ts). Ported from LeapLabTHU/Absolute-Zero-Reasoner
# master @ a82124e (MIT licence, see engine/data/azr-seed/LICENSE): the six prompt texts below are copied verbatim
# from absolute_zero_reasoner/data_construction/prompts.py, the wrapper from data_construction/process_data.py; the
# functions follow prompts.py, rewards/code_reward.py, rewards/custom_evaluate.py, rewards/reward_managers.py and
# utils/code_utils/parsers.py (self-play settings only: no composite functions, no comment/print removal).
# Usage: python3 azr_reference.py < {"op": ..., "items": [...]} → a JSON list, one result per item.
import ast
import json
import re
import sys

instruction_following = "A conversation between User and Assistant. The user asks a question, and the Assistant solves it. The assistant first thinks about the reasoning process in the mind and then provides the user with the answer. The reasoning process and answer are enclosed within <think> </think> and <answer> </answer> tags, respectively, i.e., <think> reasoning process here </think> <answer> answer here </answer>. User: {}\nAssistant: <think>"

code_input_prompt = """
## Task: Create a Python Code Snippet (where custom classes are allowed, which should be defined at the top of the code snippet) with one Matching Input

Using the reference code snippets provided below as examples, design a new and unique Python code snippet that demands deep algorithmic reasoning to deduce one possible input from a given output. Your submission should include both a code snippet and test input pair, where the input will be plugged into the code snippet to produce the output, which that function output be given to a test subject to come up with any input that will produce the same function output. This is meant to be an I.Q. test.

### Code Requirements:
- Name the entry function `f` (e.g., `def f(...): ...`), you can have nested definitions inside `f`
- Ensure the function returns a value
- Include at least one input parameter
- Make the function deterministic
- Make the snippet require state tracking across multiple data transformations, ensuring the task requires long multi step reasoning
- AVOID THE FOLLOWING:
  * Random functions or variables
  * Date/time operations
  * I/O operations (reading files, network requests)
  * Printing or logging
  * Any external state
- Ensure execution completes within 10 seconds on a modern CPU
- All imports and class definitions should be at the very top of the code snippet
- The snippet should end with a return statement from the main function `f`, anything after will be removed
{remove_input_from_snippet_prompt}{remove_after_return_prompt}
### Input Requirements:
- Provide exactly one test input for your function
- Format multiple arguments with commas between them
- Remember to add quotes around string arguments

### Formatting:
- Format your code with: ```python
  def f(...):
      # your code here
      return ...
  ```
- Format your input with: ```input
  arg1, arg2, ...
  ```

### Example Format:
```python
def f(name: str, info: dict):
    # code logic here
    return result
```

```input
'John', {{'age': 20, 'city': 'New York'}}
```

### Evaluation Criteria:
- Executability, your code should be executable given your input
- Difficulty in predicting the output from your provided input and code snippet. Focus on either algorithmic reasoning or logic complexity. For example, you can define complex data structure classes and operate on them like trees, heaps, stacks, queues, graphs, etc, or use complex control flow, dynamic programming, recursions, divide and conquer, greedy, backtracking, etc
- Creativity, the code needs to be sufficiently different from the provided reference snippets
- Restricted usage of certain keywords and packages, you are not allowed to use the following words in any form, even in comments: <|BANNED_KEYWORDS|>

First, carefully devise a clear plan: e.g., identify how your snippet will be challenging, distinct from reference snippets, and creative. Then, write the final code snippet and its inputs.

### Reference Code Snippets:
"""

code_output_prompt = """
## Task: Create a New Python Code Snippet (where custom classes are allowed, which should be defined at the top of the code snippet) with one Matching Input

Using the reference code snippets provided below as examples, design a new and unique Python code snippet that demands deep algorithmic reasoning to deduce the output from the input. Your submission should include a code snippet and a test input pair, where the input will be plugged into the code snippet to produce the output. The input will be given to a test subject to deduce the output, which is meant to be an I.Q. test.

### Code Requirements:
- Name the entry function `f` (e.g., `def f(...): ...`), you can have nested definitions inside `f`
- Ensure the function returns a value
- Include at least one input parameter
- Make the function deterministic
- Make the snippet require state tracking across multiple data transformations, ensuring the task requires long multi step reasoning
- AVOID THE FOLLOWING:
  * Random functions or variables
  * Date/time operations
  * I/O operations (reading files, network requests)
  * Printing or logging
  * Any external state
- Ensure execution completes within 10 seconds on a modern CPU
- All imports and class definitions should be at the very top of the code snippet
- The snippet should end with a return statement from the main function `f`, anything after will be removed
{remove_input_from_snippet_prompt}{remove_after_return_prompt}
### Input Requirements:
- Provide exactly one test input for your function
- Format multiple arguments with commas between them
- Remember to add quotes around string arguments

### Formatting:
- Format your code with:
```python
def f(...):
    # your code here
    return ...
```
- Format your input with:
```input
arg1, arg2, ...
```

### Example Format:
```python
def f(name: str, info: dict):
    # code logic here
    return result
```

```input
'John', {{'age': 20, 'city': 'New York'}}
```

### Evaluation Criteria:
- Executability, your code should be executable given your input
- Difficulty in predicting your ```input``` from 1) your ```python``` code and 2) the deterministic ```output``` that will be obtained from your ```input```. Focus on either algorithmic reasoning or logic complexity. For example, you can define complex data structure classes and operate on them like trees, heaps, stacks, queues, graphs, etc, or use complex control flow, dynamic programming, recursions, divide and conquer, greedy, backtracking, etc
- Creativity, the code needs to be sufficiently different from the provided reference snippets
- Restricted usage of certain keywords and packages, you are not allowed to use the following words in any form, even in comments: <|BANNED_KEYWORDS|>

First, carefully devise a clear plan: e.g., identify how your snippet will be challenging, distinct from reference snippets, and creative. Then, write the final code snippet and its inputs.

### Reference Code Snippets:
"""

code_function_prompt = """
## Task: Output {num_inputs} Inputs that can be plugged into the following Code Snippet to produce diverse Outputs, and give a message related to the given snippet.

Using the code snippet provided below, design {num_inputs} inputs that can be plugged into the code snippet to produce a diverse set of outputs. A subset of your given input and its deterministically produced outputs will be given to a test subject to deduce the function, which is meant to be an I.Q. test. You can also leave a message to the test subject to help them deduce the code snippet.

### Input Requirements:
- Provide {num_inputs} valid inputs for the code snippet
- For each input, format multiple arguments with commas between them
- Remember to add quotes around string arguments
- Each input should be individually wrapped in ```input``` tags

### Message Requirements:
- Leave a message to the test subject to help them deduce the code snippet
- The message should be wrapped in ```message``` tags
- The message can be in any form, can even be formed into a coding question, or a natural language instruction what the code snippet does
- You cannot provide the code snippet in the message

### Formatting:
- Format your input with:
```input
arg1, arg2, ...
```

### Example Format:
```input
'John', {{'age': 20, 'city': 'New York'}}
```
```input
'Sammy', {{'age': 37, 'city': 'Los Angeles'}}
```

### Evaluation Criteria:
- Executability, your code should be executable given your inputs
- Coverage, the inputs and outputs should cover the whole input space of the code snippet, able to deduce the code snippet from the inputs and outputs
- Creativity, the inputs need to be sufficiently different from each other
- The overall selection of inputs and message combined should be challenging for the test subject, but not impossible for them to solve
First, carefully devise a clear plan: e.g., understand the code snippet, then identify how your proposed inputs have high coverage, and why the inputs will be challenging and creative. Then, write the inputs and message. Remember to wrap your inputs in ```input``` tags, and your message in ```message``` tags.

### Code Snippet:
```python
{snippet}
```
"""

code_input_predictor_prompt = """
# Task: Provide One Possible Input of a Python Code Snippet Given the Code and Output
Given the following Code Snippet and the Output, think step by step then provide one possible input that produced the output. The input needs to be wrapped in ```input``` tags. Remember if an argument is a string, wrap it in quotes. If the function requires multiple arguments, separate them with commas.

# Code Snippet:
```python
{snippet}
```

# Output:
```output
{output}
```

# Output Format:
```input
arg1, arg2, ...
```
# Example Output:
```input
'John', {{'age': 20, 'city': 'New York'}}
```
"""

code_output_predictor_prompt = """
# Task: Deduce the Output of a Python Code Snippet Given the Code and Input
Given the following Code Snippet and the Input, think step by step then deduce the output that will be produced from plugging the Input into the Code Snippet. Put your output in ```output``` tags. Remember if the output is a string, wrap it in quotes. If the function returns multiple values, remember to use a tuple to wrap them.

# Code Snippet:
```python
{snippet}
```

# Input:
```input
{input_args}
```

# Example Output:
```output
{{'age': 20, 'city': 'New York'}}
```
"""

code_suffix = "\nf(<|YOUR INPUT WILL BE PLUGGED HERE|>)"

code_function_predictor_prompt = """
# Task: Deduce the Function that Produced the Outputs from the Inputs
Given a set of input/output pairs and a message that describes the function, think through the problem step by step to deduce a general code snippet. This code should produce the hidden outputs from the hidden inputs, matching the original data-generating code that created the input/output pairs. Place your final answer inside python tags! It may be helpful to work through each input/output pair individually to test your function. If your function doesn’t work as expected, revise it until it does. The final code snippet will be used to evaluate your response, which is wrapped in ```python``` tags.

# Code Requirements:
- Name the entry function `f` (e.g., `def f(...): ...`), you can have nested definitions inside `f`
- Ensure the function returns a value
- Include at least one input parameter
- Make the function deterministic
- AVOID THE FOLLOWING:
  * Random functions or variables
  * Date/time operations
  * I/O operations (reading files, network requests)
  * Printing or logging
  * Any external state
- Ensure execution completes within 10 seconds on a modern CPU
- All imports and class definitions should be at the very top of the code snippet
- The snippet should end with a return statement from the main function `f()`, anything after will be removed

# Input and Output Pairs:
{input_output_pairs}

# Message:
```message
{message}
```

# Example Output:
```python
def f(a):
    return a
```

Name your entry function `f()`!!!
"""

# composite_requirements_prompt = "\n[IMPORTANT CRITERIA!!!] The main function `f` MUST make calls to ALL these functions {function_names} in its body, and you SHOULD NOT provide the definition of {function_names} in your output code snippet. You should first reason step by step about what these functions, {function_names}, do, then write the code snippet.\n" + '\n### The Functions that Must ALL be Called in your Code Snippet: \n```python\n{composite_functions}\n```\n'


# ---- prompts (prompts.py: get_code_problem_generator_prompt / get_code_problem_predictor_prompt) ----

def reference_blocks(refs):
    out = ""
    for i, r in enumerate(refs):
        out += f"<snippet_{i}>\n```python\n{r['snippet']}\n```\n```input\n{r['input']}\n```\n```output\n{r['output']}\n```\n</snippet_{i}>\n"
    return out


def propose_prompt(item):
    kind = item["role"]
    if kind == "propose_induction":
        task = code_function_prompt.format(num_inputs=item["num_inputs"], snippet=item["snippet"] + code_suffix)
    else:
        template = code_input_prompt if kind == "propose_abduction" else code_output_prompt
        # self-play: remove_after_return off ("\n"), remove_input_from_snippet off (""), no composite functions ("\n")
        task = template.format(remove_after_return_prompt="\n", remove_input_from_snippet_prompt="").replace(
            "<|BANNED_KEYWORDS|>", ", ".join(item["banned"])) + reference_blocks(item["refs"]) + "\n"
    return instruction_following.format(task)


def solve_prompt(item):
    kind = item["role"]
    if kind == "solve_abduction":
        task = code_input_predictor_prompt.format(snippet=item["snippet"], output=item["output"])
    elif kind == "solve_deduction":
        task = code_output_predictor_prompt.format(snippet=item["snippet"], input_args=item["input"])
    else:
        half = len(item["inputs"]) // 2
        pairs = ""
        for i, (inp, out) in enumerate(zip(item["inputs"][:half], item["outputs"][:half])):
            pairs += f"```input_{i}\n{inp}\n```\n```output_{i}\n{out}\n```\n"
        task = code_function_predictor_prompt.format(input_output_pairs=pairs, message=item["message"])
    return instruction_following.format(task)


def prompt(item):
    return propose_prompt(item) if item["role"].startswith("propose") else solve_prompt(item)


# ---- parsing ----

FLAGS = re.DOTALL | re.IGNORECASE


def generation(text):
    """reward_managers._get_data_dict: the segment after the first "Assistant:", stripped, then quotes stripped."""
    return text.split("Assistant:")[1].strip().strip("\"'")


def format_ok(gen):
    return re.match(r"(?s)<think>.*?</think>\s*<answer>.*?</answer>", gen) is not None


def extract_answer(gen):
    if "<answer>" not in gen:
        return ""
    return gen.split("<answer>")[-1].split("</answer>")[0].strip()


def parse_imports(code):
    imports = []
    try:
        tree = ast.parse(code)
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                names = ", ".join(a.name + (f" as {a.asname}" if a.asname else "") for a in node.names)
                if isinstance(node, ast.Import):
                    imports.append("import " + names)
                else:
                    imports.append(f"from {'.' * node.level}{node.module or ''} import " + names)
    except Exception:
        imports = [i.strip() for i in re.findall(r"^\s*(?:from|import)\s+.*$", code, re.MULTILINE)]
    return imports


def parse_code_input_output(text, reject_multiple_functions, f_replace_location):
    code_match = re.search(r"```(?:python\s*)?\n?(.*?)\n?```", text, FLAGS)
    input_match = re.search(r"```input\s*\n?(.*?)\n?```", text, FLAGS)
    if not input_match:
        input_match = re.search(r"# Input:\s*(.*?)(?=\n```|$)", text, FLAGS)
    if not code_match or not input_match:
        return None
    code = code_match.group(1).strip()
    inp = input_match.group(1).strip()
    defs = re.findall(r"^\s*def\s+(\w+)\s*\(", code, re.MULTILINE)
    if not defs or (reject_multiple_functions and len(defs) > 1):
        return None
    if f_replace_location == "not_first":
        name = defs[0]
    else:  # any_last
        name = defs[-1] if "f" not in defs else "f"
    if name != "f":
        code = re.sub(rf"def\s+{re.escape(name)}\s*\(", "def f(", code)
        code = re.sub(rf"\b{re.escape(name)}\s*\(", "f(", code)
    return {"code": code, "input": inp, "imports": parse_imports(code), "python": parses(code)}


def parses(code):
    try:
        ast.parse(code)
        return True
    except Exception:
        return False


def parse_inputs_message(text, num_inputs):
    inputs = [m.group(1).strip() for m in re.finditer(r"```input\s*\n?(.*?)\n?```", text, FLAGS)]
    if len(inputs) < num_inputs:
        return None
    m = (re.search(r"```message\s*\n?(.*?)\n?```", text, FLAGS)
         or re.search(r"<message>\s*(.*?)\s*</message>", text, FLAGS)
         or re.search(r"# Message:\s*(.*?)(?=\n```|$)", text, FLAGS))
    if not m:
        return None
    return {"inputs": inputs[-num_inputs:], "message": m.group(1).strip()}


def extract_value(text, kind):
    """CodeIORewardManager.extract_input_output: the last match of the first pattern that matches, else the text."""
    title = "Input" if kind == "input" else "Output"
    for pattern in (rf"```{kind}\s*\n?(.*?)\n?```", rf"# {title}:\s*(.*?)(?=\n```|$)", rf"{kind}\s*\((.*?)\)",
                    rf"<{kind}>\s*(.*?)(?:</{kind}>|\s*$)", rf"the {kind} is\s*(.*?)\.?$"):
        matches = list(re.finditer(pattern, text, FLAGS))
        if matches:
            return matches[-1].group(1)
    return text


def parse_code_function(text):
    matches = list(re.finditer(r"```(?:python\s*)?\n?(.*?)\n?```", text, FLAGS))
    return matches[-1].group(1).strip() if matches else None


def parse(item):
    text = item["text"]
    gen = generation(text) if "Assistant:" in text else None
    answer = item["answer"]
    return {
        "generation": gen,
        "format": format_ok(gen) if gen is not None else None,
        "extract": extract_answer(answer),
        "proposal": parse_code_input_output(answer, True, "not_first"),
        "proposal_any_last": parse_code_input_output(answer, False, "any_last"),
        "induction": parse_inputs_message(answer, 10),
        "input": extract_value(answer, "input"),
        "output": extract_value(answer, "output"),
        "function": parse_code_function(answer),
    }


def imports(item):
    return {"parsed": parses(item), "imports": parse_imports(item)}


OPS = {"prompt": prompt, "parse": parse, "imports": imports}

if __name__ == "__main__":
    request = json.load(sys.stdin)
    json.dump([OPS[request["op"]](item) for item in request["items"]], sys.stdout)
