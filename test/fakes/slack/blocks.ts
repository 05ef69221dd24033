// The checks Slack applies to Block Kit payloads, views and message metadata before accepting them. Slack answers
// `invalid_blocks` (messages) or `invalid_arguments` (views) with `[ERROR] ...` lines in
// `response_metadata.messages`; the fake does the same for the limits below (from Slack's Block Kit reference).
import { isObject } from './description.ts';

const MESSAGE_BLOCK_TYPES = new Set([
  'section',
  'divider',
  'image',
  'actions',
  'context',
  'header',
  'input',
  'file',
  'rich_text',
  'video',
  'markdown',
  'table',
  'context_actions',
]);
const INTERACTIVE_ELEMENTS = new Set([
  'button',
  'checkboxes',
  'datepicker',
  'datetimepicker',
  'email_text_input',
  'external_select',
  'image',
  'multi_external_select',
  'multi_static_select',
  'multi_users_select',
  'multi_conversations_select',
  'multi_channels_select',
  'number_input',
  'overflow',
  'plain_text_input',
  'radio_buttons',
  'rich_text_input',
  'static_select',
  'timepicker',
  'url_text_input',
  'users_select',
  'conversations_select',
  'channels_select',
  'workflow_button',
  'file_input',
]);

function textObject(value: unknown, where: string, errors: string[], opts: { plainOnly?: boolean; max?: number }) {
  if (!isObject(value)) {
    errors.push(`${where} must be a text object`);
    return;
  }
  if (value.type !== 'plain_text' && value.type !== 'mrkdwn') errors.push(`${where}.type must be plain_text or mrkdwn`);
  else if (opts.plainOnly && value.type !== 'plain_text') errors.push(`${where}.type must be plain_text`);
  if (typeof value.text !== 'string' || value.text.length === 0)
    errors.push(`${where}.text must be a non-empty string`);
  else if (opts.max && value.text.length > opts.max)
    errors.push(`${where}.text must be at most ${opts.max} characters`);
}

function checkElement(element: unknown, where: string, errors: string[], actionIds: Set<string>) {
  if (!isObject(element) || typeof element.type !== 'string') {
    errors.push(`${where} must be an object with a type`);
    return;
  }
  if (!INTERACTIVE_ELEMENTS.has(element.type)) {
    errors.push(`${where}.type "${element.type}" is not a block element`);
    return;
  }
  if (element.action_id !== undefined) {
    if (typeof element.action_id !== 'string' || element.action_id.length > 255)
      errors.push(`${where}.action_id must be a string of at most 255 characters`);
    else if (actionIds.has(element.action_id)) errors.push(`${where}.action_id "${element.action_id}" is repeated`);
    else actionIds.add(element.action_id);
  }
  if (element.type === 'button') {
    textObject(element.text, `${where}.text`, errors, { plainOnly: true, max: 75 });
    if (typeof element.value === 'string' && element.value.length > 2000)
      errors.push(`${where}.value must be at most 2000 characters`);
  }
  if (element.type === 'static_select' || element.type === 'multi_static_select') {
    const options = element.options ?? element.option_groups;
    if (!Array.isArray(options) || options.length === 0 || options.length > 100)
      errors.push(`${where}.options must hold 1 to 100 options`);
  }
}

/** Errors in a `blocks` array; empty when Slack would accept it. `max` is 50 for messages, 100 for views. */
export function blocksErrors(blocks: unknown[], max: number, allowInput: boolean): string[] {
  const errors: string[] = [];
  if (blocks.length > max) errors.push(`no more than ${max} items allowed [json-pointer:/blocks]`);
  const blockIds = new Set<string>();
  const actionIds = new Set<string>();
  blocks.forEach((block, i) => {
    const where = `/blocks/${i}`;
    if (!isObject(block) || typeof block.type !== 'string') {
      errors.push(`missing required field: type [json-pointer:${where}]`);
      return;
    }
    if (!MESSAGE_BLOCK_TYPES.has(block.type)) {
      errors.push(`unsupported type: ${block.type} [json-pointer:${where}/type]`);
      return;
    }
    if (block.block_id !== undefined) {
      if (typeof block.block_id !== 'string' || block.block_id.length > 255)
        errors.push(`block_id must be a string of at most 255 characters [json-pointer:${where}/block_id]`);
      else if (blockIds.has(block.block_id))
        errors.push(`duplicate block_id ${block.block_id} [json-pointer:${where}/block_id]`);
      else blockIds.add(block.block_id);
    }
    switch (block.type) {
      case 'section':
        if (block.text === undefined && block.fields === undefined)
          errors.push(`must provide text or fields [json-pointer:${where}]`);
        if (block.text !== undefined) textObject(block.text, `${where}/text`, errors, { max: 3000 });
        if (block.fields !== undefined) {
          if (!Array.isArray(block.fields) || block.fields.length > 10)
            errors.push(`fields must hold at most 10 items [json-pointer:${where}/fields]`);
          else
            block.fields.forEach((f, j) => {
              textObject(f, `${where}/fields/${j}`, errors, { max: 2000 });
            });
        }
        if (block.accessory !== undefined) checkElement(block.accessory, `${where}/accessory`, errors, actionIds);
        break;
      case 'header':
        textObject(block.text, `${where}/text`, errors, { plainOnly: true, max: 150 });
        break;
      case 'actions':
        if (!Array.isArray(block.elements) || block.elements.length === 0 || block.elements.length > 25)
          errors.push(`elements must hold 1 to 25 items [json-pointer:${where}/elements]`);
        else
          block.elements.forEach((e, j) => {
            checkElement(e, `${where}/elements/${j}`, errors, actionIds);
          });
        break;
      case 'context':
        if (!Array.isArray(block.elements) || block.elements.length === 0 || block.elements.length > 10)
          errors.push(`elements must hold 1 to 10 items [json-pointer:${where}/elements]`);
        break;
      case 'image':
        if (typeof block.alt_text !== 'string') errors.push(`missing required field: alt_text [json-pointer:${where}]`);
        if (typeof block.image_url !== 'string' && !isObject(block.slack_file))
          errors.push(`missing required field: image_url [json-pointer:${where}]`);
        break;
      case 'input':
        if (!allowInput) errors.push(`input blocks are only allowed in views [json-pointer:${where}]`);
        textObject(block.label, `${where}/label`, errors, { plainOnly: true, max: 2000 });
        checkElement(block.element, `${where}/element`, errors, actionIds);
        break;
      case 'rich_text':
        if (!Array.isArray(block.elements)) errors.push(`missing required field: elements [json-pointer:${where}]`);
        break;
    }
  });
  return errors;
}

/** Errors in a view payload (views.open/update/publish). */
export function viewErrors(view: Record<string, unknown>, allowed: Array<'modal' | 'home'>): string[] {
  const errors: string[] = [];
  if (view.type !== 'modal' && view.type !== 'home')
    errors.push('must be a valid enum value [json-pointer:/view/type]');
  else if (!allowed.includes(view.type))
    errors.push(`a ${view.type} view is not allowed here [json-pointer:/view/type]`);
  if (view.type === 'modal') {
    textObject(view.title, '/view/title', errors, { plainOnly: true, max: 24 });
    if (view.submit !== undefined) textObject(view.submit, '/view/submit', errors, { plainOnly: true, max: 24 });
    if (view.close !== undefined) textObject(view.close, '/view/close', errors, { plainOnly: true, max: 24 });
    const hasInput = Array.isArray(view.blocks) && view.blocks.some((b) => isObject(b) && b.type === 'input');
    if (hasInput && view.submit === undefined)
      errors.push('submit is required when a view has input blocks [json-pointer:/view/submit]');
  }
  if (!Array.isArray(view.blocks)) errors.push('missing required field: blocks [json-pointer:/view]');
  else
    errors.push(...blocksErrors(view.blocks, 100, true).map((e) => e.replace('json-pointer:/', 'json-pointer:/view/')));
  if (
    view.private_metadata !== undefined &&
    (typeof view.private_metadata !== 'string' || view.private_metadata.length > 3000)
  )
    errors.push('private_metadata must be a string of at most 3000 characters [json-pointer:/view/private_metadata]');
  if (view.callback_id !== undefined && (typeof view.callback_id !== 'string' || view.callback_id.length > 255))
    errors.push('callback_id must be a string of at most 255 characters [json-pointer:/view/callback_id]');
  if (view.external_id !== undefined && (typeof view.external_id !== 'string' || view.external_id.length > 255))
    errors.push('external_id must be a string of at most 255 characters [json-pointer:/view/external_id]');
  return errors;
}

/** Errors in chat.postMessage/chat.update `metadata` ({event_type, event_payload}). */
export function metadataErrors(metadata: Record<string, unknown>): string[] {
  const errors: string[] = [];
  // Work-object metadata (`entities`) may come without event metadata.
  if (metadata.event_type === undefined && metadata.event_payload === undefined && Array.isArray(metadata.entities))
    return errors;
  if (typeof metadata.event_type !== 'string' || !/^[a-zA-Z0-9_]{1,255}$/.test(metadata.event_type))
    errors.push('event_type must be a string of letters, digits and underscores');
  if (!isObject(metadata.event_payload)) errors.push('event_payload must be an object');
  return errors;
}
