import type Handlebars from "handlebars";
import absUrl from "./helpers/abs_url.js";
import asset from "./helpers/asset.js";
import clock from "./helpers/clock.js";
import concat from "./helpers/concat.js";
import countryName from "./helpers/country_name.js";
import date from "./helpers/date.js";
import dateTime from "./helpers/date_time.js";
import fallback from "./helpers/default.js";
import digits from "./helpers/digits.js";
import eq from "./helpers/eq.js";
import inc from "./helpers/inc.js";
import isoDate from "./helpers/iso_date.js";
import isoTime from "./helpers/iso_time.js";
import jsonLd from "./helpers/json_ld.js";
import localDigits from "./helpers/local_digits.js";
import mediaUrl from "./helpers/media_url.js";
import money from "./helpers/money.js";
import num from "./helpers/num.js";
import optionName from "./helpers/option_name.js";
import pageUrls from "./helpers/page_urls.js";
import qs from "./helpers/qs.js";
import shippingList from "./helpers/shipping_list.js";
import srcset from "./helpers/srcset.js";
import starClass from "./helpers/star_class.js";
import t from "./helpers/t.js";
import url from "./helpers/url.js";

/** Every helper the views may use, registered explicitly in one place. */
export function registerHelpers(hbs: typeof Handlebars) {
  hbs.registerHelper({
    abs_url: absUrl,
    asset,
    clock,
    concat,
    country_name: countryName,
    date,
    date_time: dateTime,
    default: fallback,
    digits,
    eq,
    inc,
    iso_date: isoDate,
    iso_time: isoTime,
    json_ld: jsonLd,
    local_digits: localDigits,
    media_url: mediaUrl,
    money,
    num,
    option_name: optionName,
    page_urls: pageUrls,
    qs,
    shipping_list: shippingList,
    srcset,
    star_class: starClass,
    t,
    url,
  });
}
