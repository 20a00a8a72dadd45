// The reference's prompt texts, kept word for word (docs/reference.md §1; test/engine-prompts-diff.test.ts checks every
// role's prompt byte for byte against the reference's own template code). Source: LeapLabTHU/Absolute-Zero-Reasoner, absolute_zero_reasoner/data_construction/prompts.py and
// process_data.py, MIT License, Copyright (c) 2025 LeapLab. Python's `{{`/`}}` escapes are already resolved and the
// self-play expansions applied (`remove_after_return_prompt` = "\n", `remove_input_from_snippet_prompt` = "").
// Placeholders are `{name}`; prompts.ts fills them.

const F = "```";

/** R1-style wrapper: a base model's "chat template" is a plain join, so this is the whole prompt (docs/reference.md §1.1). */
export const INSTRUCTION_FOLLOWING =
  "A conversation between User and Assistant. The user asks a question, and the Assistant solves it. The assistant " +
  "first thinks about the reasoning process in the mind and then provides the user with the answer. The reasoning " +
  "process and answer are enclosed within <think> </think> and <answer> </answer> tags, respectively, i.e., " +
  "<think> reasoning process here </think> <answer> answer here </answer>. User: {prompt}\nAssistant: <think>";

const CODE_REQUIREMENTS = `### Code Requirements:
- Name the entry function \`f\` (e.g., \`def f(...): ...\`), you can have nested definitions inside \`f\`
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
- The snippet should end with a return statement from the main function \`f\`, anything after will be removed


### Input Requirements:
- Provide exactly one test input for your function
- Format multiple arguments with commas between them
- Remember to add quotes around string arguments
`;

const EXAMPLE_FORMAT = `### Example Format:
${F}python
def f(name: str, info: dict):
    # code logic here
    return result
${F}

${F}input
'John', {'age': 20, 'city': 'New York'}
${F}
`;

const CRITERIA_TAIL = `- Creativity, the code needs to be sufficiently different from the provided reference snippets
- Restricted usage of certain keywords and packages, you are not allowed to use the following words in any form, even in comments: {banned}

First, carefully devise a clear plan: e.g., identify how your snippet will be challenging, distinct from reference snippets, and creative. Then, write the final code snippet and its inputs.

### Reference Code Snippets:
`;

const DIFFICULTY_SUFFIX =
  "Focus on either algorithmic reasoning or logic complexity. For example, you can define complex data structure " +
  "classes and operate on them like trees, heaps, stacks, queues, graphs, etc, or use complex control flow, dynamic " +
  "programming, recursions, divide and conquer, greedy, backtracking, etc";

/** Abduction proposer (gen_code_i). Its difficulty bullet speaks of predicting the *output*: the reference's swap. */
export const PROPOSE_ABDUCTION = `
## Task: Create a Python Code Snippet (where custom classes are allowed, which should be defined at the top of the code snippet) with one Matching Input

Using the reference code snippets provided below as examples, design a new and unique Python code snippet that demands deep algorithmic reasoning to deduce one possible input from a given output. Your submission should include both a code snippet and test input pair, where the input will be plugged into the code snippet to produce the output, which that function output be given to a test subject to come up with any input that will produce the same function output. This is meant to be an I.Q. test.

${CODE_REQUIREMENTS}
### Formatting:
- Format your code with: ${F}python
  def f(...):
      # your code here
      return ...
  ${F}
- Format your input with: ${F}input
  arg1, arg2, ...
  ${F}

${EXAMPLE_FORMAT}
### Evaluation Criteria:
- Executability, your code should be executable given your input
- Difficulty in predicting the output from your provided input and code snippet. ${DIFFICULTY_SUFFIX}
${CRITERIA_TAIL}`;

/** Deduction proposer (gen_code_o). Its difficulty bullet speaks of predicting the *input*: the reference's swap. */
export const PROPOSE_DEDUCTION = `
## Task: Create a New Python Code Snippet (where custom classes are allowed, which should be defined at the top of the code snippet) with one Matching Input

Using the reference code snippets provided below as examples, design a new and unique Python code snippet that demands deep algorithmic reasoning to deduce the output from the input. Your submission should include a code snippet and a test input pair, where the input will be plugged into the code snippet to produce the output. The input will be given to a test subject to deduce the output, which is meant to be an I.Q. test.

${CODE_REQUIREMENTS}
### Formatting:
- Format your code with:
${F}python
def f(...):
    # your code here
    return ...
${F}
- Format your input with:
${F}input
arg1, arg2, ...
${F}

${EXAMPLE_FORMAT}
### Evaluation Criteria:
- Executability, your code should be executable given your input
- Difficulty in predicting your ${F}input${F} from 1) your ${F}python${F} code and 2) the deterministic ${F}output${F} that will be obtained from your ${F}input${F}. ${DIFFICULTY_SUFFIX}
${CRITERIA_TAIL}`;

/** Induction proposer (gen_code_f); `{snippet}` already ends with `CODE_SUFFIX`. */
export const PROPOSE_INDUCTION = `
## Task: Output {num_inputs} Inputs that can be plugged into the following Code Snippet to produce diverse Outputs, and give a message related to the given snippet.

Using the code snippet provided below, design {num_inputs} inputs that can be plugged into the code snippet to produce a diverse set of outputs. A subset of your given input and its deterministically produced outputs will be given to a test subject to deduce the function, which is meant to be an I.Q. test. You can also leave a message to the test subject to help them deduce the code snippet.

### Input Requirements:
- Provide {num_inputs} valid inputs for the code snippet
- For each input, format multiple arguments with commas between them
- Remember to add quotes around string arguments
- Each input should be individually wrapped in ${F}input${F} tags

### Message Requirements:
- Leave a message to the test subject to help them deduce the code snippet
- The message should be wrapped in ${F}message${F} tags
- The message can be in any form, can even be formed into a coding question, or a natural language instruction what the code snippet does
- You cannot provide the code snippet in the message

### Formatting:
- Format your input with:
${F}input
arg1, arg2, ...
${F}

### Example Format:
${F}input
'John', {'age': 20, 'city': 'New York'}
${F}
${F}input
'Sammy', {'age': 37, 'city': 'Los Angeles'}
${F}

### Evaluation Criteria:
- Executability, your code should be executable given your inputs
- Coverage, the inputs and outputs should cover the whole input space of the code snippet, able to deduce the code snippet from the inputs and outputs
- Creativity, the inputs need to be sufficiently different from each other
- The overall selection of inputs and message combined should be challenging for the test subject, but not impossible for them to solve
First, carefully devise a clear plan: e.g., understand the code snippet, then identify how your proposed inputs have high coverage, and why the inputs will be challenging and creative. Then, write the inputs and message. Remember to wrap your inputs in ${F}input${F} tags, and your message in ${F}message${F} tags.

### Code Snippet:
${F}python
{snippet}
${F}
`;

export const CODE_SUFFIX = "\nf(<|YOUR INPUT WILL BE PLUGGED HERE|>)";

/** Abduction solver (pred_code_i). */
export const SOLVE_ABDUCTION = `
# Task: Provide One Possible Input of a Python Code Snippet Given the Code and Output
Given the following Code Snippet and the Output, think step by step then provide one possible input that produced the output. The input needs to be wrapped in ${F}input${F} tags. Remember if an argument is a string, wrap it in quotes. If the function requires multiple arguments, separate them with commas.

# Code Snippet:
${F}python
{snippet}
${F}

# Output:
${F}output
{output}
${F}

# Output Format:
${F}input
arg1, arg2, ...
${F}
# Example Output:
${F}input
'John', {'age': 20, 'city': 'New York'}
${F}
`;

/** Deduction solver (pred_code_o). */
export const SOLVE_DEDUCTION = `
# Task: Deduce the Output of a Python Code Snippet Given the Code and Input
Given the following Code Snippet and the Input, think step by step then deduce the output that will be produced from plugging the Input into the Code Snippet. Put your output in ${F}output${F} tags. Remember if the output is a string, wrap it in quotes. If the function returns multiple values, remember to use a tuple to wrap them.

# Code Snippet:
${F}python
{snippet}
${F}

# Input:
${F}input
{input}
${F}

# Example Output:
${F}output
{'age': 20, 'city': 'New York'}
${F}
`;

/** Induction solver (pred_code_f); `{pairs}` is the `input_i`/`output_i` blocks of the visible half. */
export const SOLVE_INDUCTION = `
# Task: Deduce the Function that Produced the Outputs from the Inputs
Given a set of input/output pairs and a message that describes the function, think through the problem step by step to deduce a general code snippet. This code should produce the hidden outputs from the hidden inputs, matching the original data-generating code that created the input/output pairs. Place your final answer inside python tags! It may be helpful to work through each input/output pair individually to test your function. If your function doesn\u2019t work as expected, revise it until it does. The final code snippet will be used to evaluate your response, which is wrapped in ${F}python${F} tags.

# Code Requirements:
- Name the entry function \`f\` (e.g., \`def f(...): ...\`), you can have nested definitions inside \`f\`
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
- The snippet should end with a return statement from the main function \`f()\`, anything after will be removed

# Input and Output Pairs:
{pairs}

# Message:
${F}message
{message}
${F}

# Example Output:
${F}python
def f(a):
    return a
${F}

Name your entry function \`f()\`!!!
`;
